using System.Globalization;
using System.Text;

namespace Sidus.Agent.Fetch;

/// <summary>
/// How a node asks for a version's data: distinct contents grouped into batches of at most <see cref="MaxBatchFiles"/>
/// files and <see cref="MaxBatchBytes"/> bytes, <see cref="ParallelBatches"/> in flight. Kept apart from the writing
/// so the mass-boot bench (bench/Sidus.Bench.RamLoad) asks exactly as a node does.
/// </summary>
internal static class FetchPlan
{
    public const int MaxBatchFiles = 512;
    public const long MaxBatchBytes = 8L << 20;
    public const int ParallelBatches = 3;

    /// <summary>The files that need data, by content id (hex): files sharing a content are fetched once.</summary>
    public static Dictionary<string, List<ManifestEntry>> ByContent(IEnumerable<ManifestEntry> files) =>
        files.Where(f => f.Content is not null && f.Size > 0)
            .GroupBy(f => Convert.ToHexStringLower(f.Content!))
            .ToDictionary(g => g.Key, g => g.ToList());

    /// <summary>The bytes the server sends for a file: all of it, or only its data extents when it is sparse.</summary>
    public static long DataLength(ManifestEntry file) => file.Target is null ? file.Size : Extents(file).Sum(e => e.Length);

    public static List<List<string>> MakeBatches(Dictionary<string, List<ManifestEntry>> byContent)
    {
        var batches = new List<List<string>>();
        var current = new List<string>();
        long size = 0;
        foreach (var (id, files) in byContent)
        {
            if (current.Count > 0 && (current.Count == MaxBatchFiles || size + files[0].Size > MaxBatchBytes))
            {
                batches.Add(current);
                current = [];
                size = 0;
            }

            current.Add(id);
            size += files[0].Size;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }

    /// <summary>Sparse files carry "OFFSET:LENGTH,..." in the target field: where their data lies.</summary>
    public static List<(long Offset, long Length)> Extents(ManifestEntry file) =>
        [.. Encoding.ASCII.GetString(file.Target!).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            return (long.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture), long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture));
        })];
}
