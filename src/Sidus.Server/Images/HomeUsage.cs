using Sidus.Artifacts.Exports;
using Sidus.Linux;

namespace Sidus.Server.Images;

/// <summary>Bytes of one kind of thing the data directory holds, and how many files.</summary>
public sealed record HomeUsageKind(string Kind, string What, long Bytes, long Files);

/// <summary>
/// Every byte the data directory holds, by kind, counted as `du -sb` counts them: the apparent size of every file,
/// directory and symlink under it (the directory itself included), each hard-linked file once, symlinks never
/// followed. What no rule names is "other", so the kinds always add up to the whole.
/// </summary>
public static class HomeUsage
{
    /// <summary>Kinds by path under the home (first match wins), with what a reader is told each is.</summary>
    private static readonly (string Kind, string What, Func<string, bool> Matches)[] Rules =
    [
        ("objects", "store packs: every version's files, deduplicated and compressed", p => Under(p, "store/packs")),
        ("checkout-caches", "store/cache: what checkouts and exec work trees last held", p => Under(p, "store/cache")),
        ("staging", "store/tmp: writes in progress", p => Under(p, "store/tmp")),
        ("refs", "store refs, format and lock: image heads, tags, removed versions", p => Under(p, "store")),
        ("exports", "erofs exports with their dm-verity trees (NBD)", p => Under(p, ErofsExports.DirectoryName)),
        ("boot-files", "kernels and Sidus initramfs files built per version", p => Under(p, "boot")),
        ("work", "image exec and build work trees", p => Under(p, "work")),
        ("inventory", "the SQLite inventory", p => p.StartsWith(Sidus.Nodes.Storage.InventoryStore.DefaultFileName, StringComparison.Ordinal)),
        ("server", "what sidus serve keeps: node keys and secrets, leases", p => Under(p, "server") || p.StartsWith("dhcp-leases", StringComparison.Ordinal)),
        ("overrides", "override trees of files and templates", p => Under(p, "overrides")),
        ("logs", "logs", p => Under(p, "logs") || p.EndsWith(".log", StringComparison.Ordinal)),
    ];

    public const string OtherKind = "other";

    public static IReadOnlyList<HomeUsageKind> Measure(string home)
    {
        var totals = new Dictionary<string, (long Bytes, long Files)>(StringComparer.Ordinal);
        var seen = new HashSet<(ulong Device, ulong Inode)>();
        void Count(string relative, FileStatus status)
        {
            if (status.Kind != FileKind.Directory && status.LinkCount > 1 && !seen.Add((status.Device, status.Inode)))
            {
                return;
            }

            var kind = relative.Length == 0 ? OtherKind : KindOf(relative);
            var (bytes, files) = totals.GetValueOrDefault(kind);
            totals[kind] = (bytes + status.Size, files + (status.Kind == FileKind.Directory ? 0 : 1));
        }

        using var root = DirectoryHandle.Open(home);
        Count(string.Empty, root.Stat([]));
        Walk(root, string.Empty, Count);
        return Rules.Select(r => (Kind: r.Kind, What: r.What)).Append((Kind: OtherKind, What: "anything else (locks, files left by hand)"))
            .Select(k => new HomeUsageKind(k.Kind, k.What, totals.GetValueOrDefault(k.Kind).Bytes, totals.GetValueOrDefault(k.Kind).Files))
            .ToList();
    }

    private static void Walk(DirectoryHandle directory, string prefix, Action<string, FileStatus> count)
    {
        foreach (var entry in directory.ReadEntries())
        {
            if (!directory.TryStat(entry.Name, out var status, out _))
            {
                continue; // gone meanwhile
            }

            var relative = prefix + Encoding.UTF8.GetString(entry.Name);
            count(relative, status);
            if (status.Kind == FileKind.Directory && directory.TryOpenChild(entry.Name, out var child) && child is not null)
            {
                using (child)
                {
                    Walk(child, relative + "/", count);
                }
            }
        }
    }

    private static string KindOf(string relative) =>
        Rules.FirstOrDefault(r => r.Matches(relative)).Kind ?? OtherKind;

    private static bool Under(string relative, string directory) =>
        relative == directory || relative.StartsWith(directory + "/", StringComparison.Ordinal);
}
