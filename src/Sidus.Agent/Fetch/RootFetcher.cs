using Sidus.Store.Checkout;
using Sidus.Store.Objects;
using Sidus.Store.Sync;

namespace Sidus.Agent.Fetch;

/// <summary>
/// Lays a version out under a directory (the tmpfs of ram mode) from the server: the manifest first, then the
/// store's sync engine (<see cref="TreeSync"/>) with the files' data fetched in batches (<see cref="HttpContentSource"/>),
/// every file checked against its SHA-256 before it is written. Network failures are retried with backoff for as
/// long as it takes; data that does not match its hash is refused, said on the console and reported, and asked for
/// again later (the server may be repaired), so the node never boots from bad data and never waits silently.
/// </summary>
internal sealed class RootFetcher(HttpClient http, string server, EventReporter reporter)
{
    private int _manifestRequests;

    public async Task<FetchStats> FetchAsync(string version, string? manifestHash, string root)
    {
        var start = Stopwatch.GetTimestamp();
        var (manifest, hash) = await FetchManifestAsync(version, manifestHash);
        var entries = ManifestReader.Parse(manifest);
        var tree = new ManifestTree(ObjectId.TryParse(version, out var id) ? id : ObjectId.Zero, hash, entries);
        var files = entries.Count(e => e.Kind == Linux.FileKind.Regular);
        AgentConsole.Say($"manifest: {entries.Count} entries, {files} files; laying them out");
        await reporter.ReportAsync(NodeEventStages.Root, $"fetching {files} files, {ContentBatchPlan.Make(entries).Sum(b => b.Sum(i => i.Length)) / 1048576.0:F1} MiB");
        var content = new HttpContentSource(http, server, version, entries, FailAndWaitAsync);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var options = new CheckoutOptions { OnXattrRefused = name => { lock (refused) { refused.Add(Encoding.UTF8.GetString(name)); } } };
        var sync = new TreeSync(tree, content, options, cacheDirectory: null);
        await sync.RunAsync(root, CancellationToken.None);
        if (refused.Count > 0)
        {
            AgentConsole.Say($"extended attributes this root filesystem does not take were left out: {string.Join(", ", refused.Order(StringComparer.Ordinal))}");
        }

        return new FetchStats(entries.Count, files, content.Bytes, _manifestRequests + content.Requests, Stopwatch.GetElapsedTime(start),
            Stopwatch.GetElapsedTime(start, Math.Max(start, content.DeliveredAt)), content.Hashing, content.Writing);
    }

    private async Task<(byte[] Manifest, byte[] Hash)> FetchManifestAsync(string version, string? pinned)
    {
        var backoff = new Backoff();
        while (true)
        {
            string? problem;
            try
            {
                _manifestRequests++;
                using var response = await http.GetAsync(server + ContentRoutes.ManifestOf(version));
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.IsSuccessStatusCode)
                {
                    var hash = Sha256.Hash(body);
                    var hex = Convert.ToHexStringLower(hash);
                    if (pinned is null || string.Equals(hex, pinned, StringComparison.OrdinalIgnoreCase))
                    {
                        return (body, hash);
                    }

                    problem = $"REFUSED: the manifest of {version} hashes to {hex}, not the {pinned} the boot command line pins";
                }
                else
                {
                    problem = $"the server answered {(int)response.StatusCode} for the manifest of {version}: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)))}";
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                problem = $"cannot fetch the manifest from {server}: {e.Message}";
            }

            await FailAndWaitAsync(problem, backoff);
        }
    }

    private async Task FailAndWaitAsync(string problem, Backoff backoff)
    {
        var wait = backoff.Next();
        AgentConsole.Fail($"{problem}; retrying in {wait.TotalSeconds:F0} s (attempt {backoff.Attempt})");
        await reporter.ReportAsync(NodeEventStages.Failed, problem);
        await Task.Delay(wait);
    }
}
