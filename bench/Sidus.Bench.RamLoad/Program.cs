using System.Diagnostics;
using System.Globalization;
using System.Net;
using Sidus.Bench.RamLoad;

// Simulates a mass reboot of ram-mode nodes against one server, for bench/ram-mass-boot.sh: every node downloads the
// version's manifest and all its file data as the agent does (batches, parallelism, retries with backoff), all
// released together. Usage:
//   Sidus.Bench.RamLoad --server http://10.0.0.1:8080 --version ID [--nodes 300] [--sample 20] [--timeout 900] [--files]
//   Sidus.Bench.RamLoad --server URL --version ID --export DIR      (write the objects as plain files for nginx)
// Prints one line of key=value figures; exit 1 when a node did not finish before the timeout.
var settings = new Dictionary<string, string>(StringComparer.Ordinal);
var flags = new HashSet<string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--files")
    {
        flags.Add("files");
    }
    else if (i + 1 < args.Length)
    {
        settings[args[i].TrimStart('-')] = args[++i];
    }
}

string Get(string name, string? fallback = null) =>
    settings.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");
int GetInt(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var server = new Uri(Get("server"));
var version = Get("version");
var nodes = GetInt("nodes", 300);
var sample = GetInt("sample", 20);
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(GetInt("timeout", 900)));

// As the agent's NewHttpClient: one client (own connections) per node.
static HttpClient NodeClient() => new(new SocketsHttpHandler
{
    ConnectTimeout = TimeSpan.FromSeconds(5),
    UseProxy = false,
    PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
    AutomaticDecompression = DecompressionMethods.None,
})
{
    // The agent's: up to the headers of a streamed answer; SimulatedNode adds its 30 s limit on silence.
    Timeout = TimeSpan.FromSeconds(120),
};

FetchSetup setup;
using (var planner = NodeClient())
{
    setup = await FetchSetup.LoadAsync(planner, server, version, deadline.Token).ConfigureAwait(false);
    if (settings.TryGetValue("export", out var exportDir))
    {
        var written = await Exporter.ExportAsync(planner, server, setup, exportDir, deadline.Token).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported={setup.Lengths.Count} bytes={written}"));
        return 0;
    }
}

var clients = Enumerable.Range(0, nodes).Select(_ => NodeClient()).ToArray();
var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var runs = new Task<SimulatedNode.Result>[nodes];
for (var i = 0; i < nodes; i++)
{
    var node = new SimulatedNode(clients[i], server, setup, verifyHash: i < sample, plainFiles: flags.Contains("files"));
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
foreach (var client in clients)
{
    client.Dispose();
}

var done = results.Where(r => r.Done).Select(r => r.Seconds).Order().ToArray();
double Percentile(double p) => done.Length == 0 ? double.NaN : done[Math.Min(done.Length - 1, (int)Math.Ceiling(p * done.Length) - 1)];
var bytes = results.Sum(r => r.Bytes);
var seconds = clock.Elapsed.TotalSeconds;
foreach (var r in results.Where(r => r.FirstError is not null).Take(5))
{
    Console.Error.WriteLine($"node error ({r.Errors} in all, done={r.Done}): {r.FirstError}");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"nodes={nodes} done={done.Length} failed={nodes - done.Length} nodes_with_errors={results.Count(r => r.Errors > 0)} errors={results.Sum(r => r.Errors)} " +
    $"hashed_nodes={Math.Min(sample, nodes)} files={setup.Lengths.Count} batches={setup.Batches.Count} image_bytes={setup.DataBytes} " +
    $"seconds={seconds:F2} bytes={bytes} MBps={bytes / seconds / 1e6:F0} p50={Percentile(0.5):F2} p90={Percentile(0.9):F2} max={(done.Length > 0 ? done[^1] : double.NaN):F2}"));
return done.Length == nodes ? 0 : 1;
