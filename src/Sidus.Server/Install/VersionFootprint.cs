using System.Collections.Concurrent;
using System.Text;
using Sidus.Linux;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Export;
using Sidus.Store.Trees;

namespace Sidus.Server.Install;

/// <summary>
/// What a version's files take on a disk, by directory: each regular file's data rounded up to 4 KiB blocks (once
/// per hard link group), a block per directory and per symlink too long to sit in its inode. Computed once per
/// version (a walk of its trees) and kept for the next node that installs it.
/// </summary>
public sealed class VersionFootprint
{
    public const long Block = 4096;

    /// <summary>A symlink target up to this long is kept in the inode itself (ext4's "fast" symlink).</summary>
    private const int InodeTarget = 59;

    private const int Kept = 16;
    private static readonly ConcurrentDictionary<ObjectId, VersionFootprint> Known = new();

    /// <summary>Directory path ("/", "/usr", ...) to the bytes of everything at and below it.</summary>
    private readonly Dictionary<string, long> _under;

    private VersionFootprint(Dictionary<string, long> under) => _under = under;

    public static VersionFootprint Of(Repository repository, ObjectId version, CancellationToken cancellation)
    {
        if (Known.TryGetValue(version, out var known))
        {
            return known;
        }

        var footprint = Walk(repository, repository.ReadCommit(version), cancellation);
        if (Known.Count >= Kept)
        {
            Known.Clear();
        }

        return Known.GetOrAdd(version, footprint);
    }

    /// <summary>The bytes of the files at and below PATH (absolute, no trailing slash but for "/"); 0 when the image has no such directory.</summary>
    public long BytesUnder(string path) => _under.GetValueOrDefault(path);

    internal static VersionFootprint Walk(Repository repository, Commit commit, CancellationToken cancellation)
    {
        var under = new Dictionary<string, long>(StringComparer.Ordinal);
        var linked = new HashSet<uint>();
        foreach (var (pathBytes, entry) in VersionWalker.Walk(repository, commit, cancellation))
        {
            var bytes = entry.Kind switch
            {
                FileKind.Regular when entry.LinkGroup != 0 && !linked.Add(entry.LinkGroup) => 0,
                FileKind.Regular => (entry.DataLength + Block - 1) / Block * Block,
                FileKind.Directory => Block,
                FileKind.Symlink when entry.Target is { Length: > InodeTarget } => Block,
                _ => 0,
            };
            var path = "/" + Encoding.UTF8.GetString(pathBytes);
            var directory = entry.Kind == FileKind.Directory ? path : Parent(path);
            for (var d = directory; ; d = Parent(d))
            {
                under[d] = under.GetValueOrDefault(d) + bytes;
                if (d == "/")
                {
                    break;
                }
            }
        }

        return new VersionFootprint(under);
    }

    private static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
