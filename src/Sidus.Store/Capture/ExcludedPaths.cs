using Sidus.Store.Sync;
using Sidus.Store.Trees;

namespace Sidus.Store.Capture;

/// <summary>
/// What a capture leaves out is not taken from the client, and not taken away from the image either: an excluded
/// path the image's newest version holds (its /etc/fstab, /etc/hostname, /var/log as debootstrap left them) stays
/// in the new version as it was, as rsync leaves excluded files on its receiving side (SystemImager's si_getimage).
/// A node capture keeps them the same way (<see cref="OverlayUpper"/>). The first capture of an image has nothing
/// to keep. A machine's identity, secrets and disks (<see cref="CaptureExcludes.NeverKept"/>) are never kept.
/// </summary>
public static class ExcludedPaths
{
    private static readonly SyncExcludes Dropped = new(CaptureExcludes.NeverKept);

    /// <summary>
    /// Copies into CAPTURED every excluded entry of PREVIOUS (a stored root) whose directory CAPTURED has and which
    /// it lacks, but a machine's own (<see cref="CaptureExcludes.NeverKept"/>). Only the directories that lead to an
    /// exclude are read.
    /// </summary>
    public static MemoryTree KeepFrom(Repository repository, TreeEntry? previous, MemoryTree captured, SyncExcludes excluded)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(captured);
        ArgumentNullException.ThrowIfNull(excluded);
        if (previous is { Kind: FileKind.Directory } root && excluded.LeadsTo([]))
        {
            Keep(repository.ReadTree, root.Tree, captured.Root, [], excluded);
        }

        return captured;
    }

    /// <summary>NODE (at PATH) without what is never kept under it (an excluded /etc/ssh keeps sshd_config, not the keys).</summary>
    private static MemoryNode WithoutDropped(MemoryNode node, byte[] path)
    {
        if (node.Children is { } children && Dropped.LeadsTo(path))
        {
            foreach (var name in children.Keys.ToList())
            {
                var childPath = DirectoryHandle.Join(path, name);
                if (Dropped.Contains(childPath))
                {
                    children.Remove(name);
                }
                else
                {
                    WithoutDropped(children[name], childPath);
                }
            }
        }

        return node;
    }

    private static void Keep(Func<ObjectId, List<TreeEntry>> readTree, ObjectId previous, MemoryNode captured, byte[] path, SyncExcludes excluded)
    {
        foreach (var entry in readTree(previous))
        {
            var childPath = DirectoryHandle.Join(path, entry.Name);
            var children = captured.Children!;
            var there = children.GetValueOrDefault(entry.Name);
            if (excluded.Contains(childPath))
            {
                if (there is null && !Dropped.Contains(childPath))
                {
                    children[entry.Name] = WithoutDropped(MemoryTree.LoadNode(readTree, entry), childPath);
                }
            }
            else if (entry.Kind == FileKind.Directory && there?.Entry.Kind == FileKind.Directory && excluded.LeadsTo(childPath))
            {
                Keep(readTree, entry.Tree, there, childPath, excluded);
            }
        }
    }
}
