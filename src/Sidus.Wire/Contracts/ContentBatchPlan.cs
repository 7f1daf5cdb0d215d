namespace Sidus.Wire.Contracts;

/// <summary>One content of a batch: its id (SHA-256) and the bytes sent for it.</summary>
public sealed record BatchItem(byte[] Content, long Length);

/// <summary>
/// How a version's file data is cut into batches, the same on the server (which answers <see cref="ContentRoutes.Batch"/>)
/// and on the node (which asks for them): distinct contents in manifest order, only the first file of a hard-link
/// group, at most <see cref="MaxFiles"/> contents and <see cref="MaxBytes"/> bytes a batch (a content larger than that
/// is a batch of its own). A change here changes what a batch URL names: bump <see cref="Revision"/>, which is in the
/// route, so no cache answers a new node with an old batch.
/// </summary>
public static class ContentBatchPlan
{
    public const string Revision = "1";
    public const int MaxFiles = 512;
    public const long MaxBytes = 8L << 20;

    /// <summary>How many batches a node keeps in flight: enough to hide a round trip, few enough not to crowd a busy server.</summary>
    public const int ParallelBatches = 3;

    public static List<List<BatchItem>> Make(IEnumerable<ManifestEntry> manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var batches = new List<List<BatchItem>>();
        var current = new List<BatchItem>();
        long size = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var groups = new HashSet<uint>();
        foreach (var entry in manifest)
        {
            if (entry.Kind != FileKind.Regular || (entry.LinkGroup != 0 && !groups.Add(entry.LinkGroup)) ||
                entry.Content is not { } content || entry.DataLength == 0 || !seen.Add(Convert.ToHexStringLower(content)))
            {
                continue;
            }

            if (current.Count > 0 && (current.Count == MaxFiles || size + entry.DataLength > MaxBytes))
            {
                batches.Add(current);
                current = [];
                size = 0;
            }

            current.Add(new BatchItem(content, entry.DataLength));
            size += entry.DataLength;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }
}
