using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Sidus.Bench.TftpHost;
using Sidus.Wire.Tftp;

// Runs Sidus's TFTP server from arguments, for bench/tftp.sh (the real `sidus serve` lives in the CLI).
// Usage: Sidus.Bench.TftpHost --root DIR [--address 127.0.0.1] [--port 6969] [--max-blksize 1468]
//        [--max-window 64] [--max-sessions 500] [--log-level Information]
var settings = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    settings[args[i].TrimStart('-')] = args[i + 1];
}

string Get(string name, string fallback) => settings.TryGetValue(name, out var v) ? v : fallback;
int GetInt(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

if (!settings.TryGetValue("root", out var root))
{
    Console.Error.WriteLine("usage: Sidus.Bench.TftpHost --root DIR [--address A] [--port P] [--max-blksize N] [--max-window N] [--max-sessions N] [--log-level L]");
    return 2;
}

var options = new TftpServerOptions
{
    Endpoint = new IPEndPoint(IPAddress.Parse(Get("address", "127.0.0.1")), GetInt("port", 6969)),
    RootDirectory = root,
    MaxBlockSize = GetInt("max-blksize", TftpLimits.EthernetBlockSize),
    MaxWindowSize = GetInt("max-window", 64),
    MaxSessions = GetInt("max-sessions", 500),
};
var logger = new StderrLogger(Enum.Parse<LogLevel>(Get("log-level", "Information")));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
await using var server = new TftpServer(options, logger);
server.Start();
Console.WriteLine($"listening {server.LocalEndPoint}");
await server.RunAsync(stop.Token);
return 0;
