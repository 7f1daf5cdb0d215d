using System.Net;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp.Support;

/// <summary>A real TftpServer on 127.0.0.1 with an ephemeral port, serving a fresh temporary root.</summary>
internal sealed class TftpTestServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private TftpTestServer(TestDirectory root, TftpServer server, ListLogger log)
    {
        Root = root;
        Server = server;
        Log = log;
        _run = server.RunAsync(_stop.Token);
    }

    public TestDirectory Root { get; }

    public TftpServer Server { get; }

    public ListLogger Log { get; }

    public int Port => Server.LocalEndPoint.Port;

    public IPEndPoint Endpoint => Server.LocalEndPoint;

    public static TftpTestServer Start(Func<TftpServerOptions, TftpServerOptions>? configure = null, TestDirectory? root = null)
    {
        root ??= new TestDirectory("sidus-tftp-");
        var options = new TftpServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), RootDirectory = root.Path };
        options = configure?.Invoke(options) ?? options;
        var log = new ListLogger();
        var server = new TftpServer(options, log);
        server.Start();
        return new TftpTestServer(root, server, log);
    }

    /// <summary>Waits (bounded) until a log line with FRAGMENT at LEVEL appears; false on timeout.</summary>
    public async Task<bool> WaitForLogAsync(Microsoft.Extensions.Logging.LogLevel level, string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Log.Contains(level, fragment))
            {
                return true;
            }

            await Task.Delay(20);
        }

        return Log.Contains(level, fragment);
    }

    /// <summary>Transfers still running after waiting (bounded) for them to wind down.</summary>
    public async Task<int> SettledActiveTransfersAsync()
    {
        for (var i = 0; i < 100 && Server.ActiveTransfers > 0; i++)
        {
            await Task.Delay(20);
        }

        return Server.ActiveTransfers;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
        await Server.DisposeAsync();
        _stop.Dispose();
        Root.Dispose();
    }
}
