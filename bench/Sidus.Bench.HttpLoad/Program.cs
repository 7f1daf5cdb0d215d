using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Sidus.Bench.HttpLoad;

// Simulates many nodes booting at once against one HTTP server, for bench/http-mass-boot.sh: every client fetches
// its iPXE script, then the kernel and initramfs the script names, all clients released together.
// Usage: Sidus.Bench.HttpLoad --base http://127.0.0.1:8080 --macs FILE --kernel FILE --initrd FILE
//        [--clients 500] [--sample 20] [--timeout 300]
// Prints one line: clients, failures, seconds, bytes, MB/s (10^6 bytes/s); exit 1 when any client failed.
var settings = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    settings[args[i].TrimStart('-')] = args[i + 1];
}

string Get(string name, string? fallback = null) =>
    settings.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");
int GetInt(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var baseUri = new Uri(Get("base"));
var macs = File.ReadAllLines(Get("macs")).Where(l => l.Length > 0).ToArray();
var clients = Math.Min(GetInt("clients", macs.Length), macs.Length);
var sample = GetInt("sample", 20);
var kernel = ExpectedFile.Read(Get("kernel"));
var initrd = ExpectedFile.Read(Get("initrd"));
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(GetInt("timeout", 300)));

using var handler = new SocketsHttpHandler
{
    // One connection per simulated node, as 500 real machines would open.
    MaxConnectionsPerServer = int.MaxValue,
    ConnectTimeout = TimeSpan.FromSeconds(30),
    AutomaticDecompression = DecompressionMethods.None,
    UseProxy = false,
};
using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };

var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var runs = new Task<NodeBoot.Result>[clients];
for (var i = 0; i < clients; i++)
{
    var node = new NodeBoot(http, baseUri, macs[i], kernel, initrd, verifyHash: i < sample);
    runs[i] = Task.Run(async () =>
    {
        await start.Task.ConfigureAwait(false);
        return await node.RunAsync(deadline.Token).ConfigureAwait(false);
    });
}

var clock = Stopwatch.StartNew();
start.SetResult();
var results = await Task.WhenAll(runs).ConfigureAwait(false);
clock.Stop();

var failures = results.Where(r => r.Error is not null).ToList();
var bytes = results.Sum(r => r.Bytes);
var seconds = clock.Elapsed.TotalSeconds;
foreach (var failure in failures.Take(10))
{
    Console.Error.WriteLine($"FAILED {failure.Mac}: {failure.Error}");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"clients={clients} failures={failures.Count} hashed={Math.Min(sample, clients)} seconds={seconds:F2} bytes={bytes} MBps={bytes / seconds / 1e6:F0} slowest={results.Max(r => r.Seconds):F2}"));
return failures.Count == 0 ? 0 : 1;

namespace Sidus.Bench.HttpLoad
{
    /// <summary>A file a client must receive: its size and SHA-256.</summary>
    internal sealed record ExpectedFile(long Length, byte[] Sha256)
    {
        public static ExpectedFile Read(string path)
        {
            using var stream = File.OpenRead(path);
            return new ExpectedFile(stream.Length, SHA256.HashData(stream));
        }
    }
}
