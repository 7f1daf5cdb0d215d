using System.Security.Cryptography;
using Sidus.Agent.Fetch;

namespace Sidus.Bench.RamLoad;

/// <summary>
/// What every simulated node will ask for, worked out once from the manifest with the agent's own parser and plan
/// (the nodes still each download the manifest and check it is the same bytes).
/// </summary>
internal sealed record FetchSetup(string Version, byte[] ManifestSha256, long ManifestLength, List<List<string>> Batches, Dictionary<string, long> Lengths)
{
    public long DataBytes => Lengths.Values.Sum();

    public static async Task<FetchSetup> LoadAsync(HttpClient http, Uri server, string version, CancellationToken cancellation)
    {
        var body = await http.GetByteArrayAsync(new Uri(server, $"/api/versions/{version}/manifest"), cancellation).ConfigureAwait(false);
        var entries = ManifestParser.Parse(System.Text.Encoding.UTF8.GetString(body));
        // As RootFetcher.CreateStructure: one file of each hard-link group carries the data.
        var seenGroups = new HashSet<uint>();
        var files = entries.Where(e => e.Kind == 'f' && (e.LinkGroup == 0 || seenGroups.Add(e.LinkGroup))).ToList();
        var byContent = FetchPlan.ByContent(files);
        var lengths = byContent.ToDictionary(kv => kv.Key, kv => FetchPlan.DataLength(kv.Value[0]), StringComparer.Ordinal);
        return new FetchSetup(version, SHA256.HashData(body), body.Length, FetchPlan.MakeBatches(byContent), lengths);
    }
}
