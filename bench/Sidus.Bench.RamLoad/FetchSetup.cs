using System.Security.Cryptography;
using Sidus.Wire.Contracts;

namespace Sidus.Bench.RamLoad;

/// <summary>
/// What every simulated node will ask for, worked out once from the manifest with the manifest reader and batch plan the agent uses
/// (the nodes still each download the manifest and check it is the same bytes).
/// </summary>
internal sealed record FetchSetup(string Version, byte[] ManifestSha256, long ManifestLength, List<List<string>> Batches, Dictionary<string, long> Lengths)
{
    public long DataBytes => Lengths.Values.Sum();

    public static async Task<FetchSetup> LoadAsync(HttpClient http, Uri server, string version, CancellationToken cancellation)
    {
        var body = await http.GetByteArrayAsync(new Uri(server, $"/api/versions/{version}/manifest"), cancellation).ConfigureAwait(false);
        var plan = ContentBatchPlan.Make(ManifestReader.Parse(System.Text.Encoding.UTF8.GetString(body)));
        var lengths = plan.SelectMany(b => b).ToDictionary(i => Convert.ToHexStringLower(i.Content), i => i.Length, StringComparer.Ordinal);
        return new FetchSetup(version, SHA256.HashData(body), body.Length, [.. plan.Select(b => b.Select(i => Convert.ToHexStringLower(i.Content)).ToList())], lengths);
    }
}
