namespace Sidus.Store.Capture;

/// <summary>
/// A shared-mode node's changes (the upper layer of its overlay, as its walker sent it) laid over the version the node
/// booted, with overlayfs's own rules (docs/capture.md, "A diskless node's changes"): a character device 0:0 is a
/// whiteout (the name is deleted), a directory marked trusted.overlay.opaque=y hides everything the version had under
/// it, any other directory merges with the version's, and every other entry replaces the version's. overlayfs's
/// bookkeeping attributes (trusted.overlay.*) are not the node's data and are dropped. A renamed directory
/// (trusted.overlay.redirect) or a metadata-only copy (trusted.overlay.metacopy) is refused: Sidus mounts its
/// overlays without redirect_dir and metacopy, so meeting one means the layer is not one of Sidus's.
/// </summary>
public static class OverlayUpper
{
    private static ReadOnlySpan<byte> OverlayPrefix => "trusted.overlay."u8;
    private static ReadOnlySpan<byte> Opaque => "trusted.overlay.opaque"u8;
    private static ReadOnlySpan<byte> Redirect => "trusted.overlay.redirect"u8;
    private static ReadOnlySpan<byte> Metacopy => "trusted.overlay.metacopy"u8;

    /// <summary>Lays UPPER over LOWER (changed in place, and returned), but for EXCLUDED paths, which stay as LOWER has
    /// them. The root keeps LOWER's metadata: the upper layer's root is the directory the agent made at boot, not the
    /// node's. A directory copied up only for what is excluded (its mode, owner and xattrs as LOWER's, nothing left
    /// under it) is no change either.</summary>
    public static MemoryTree Merge(MemoryTree lower, MemoryTree upper, Sync.SyncExcludes excluded)
    {
        Merge(lower.Root, upper.Root, [], excluded);
        return lower;
    }

    /// <summary>Applies UPPER's entries to LOWER; returns whether anything was applied.</summary>
    private static bool Merge(MemoryNode lower, MemoryNode upper, byte[] path, Sync.SyncExcludes excluded)
    {
        var applied = false;
        foreach (var (name, child) in upper.Children!)
        {
            var childPath = DirectoryHandle.Join(path, name);
            if (excluded.Contains(childPath))
            {
                continue;
            }

            var entry = child.Entry;
            if (IsWhiteout(entry))
            {
                applied |= lower.Children!.Remove(name);
                continue;
            }

            var opaque = Clean(entry, childPath);
            if (entry.Kind == FileKind.Directory && !opaque &&
                lower.Children!.TryGetValue(name, out var existing) && existing.Entry.Kind == FileKind.Directory)
            {
                var below = Merge(existing, child, childPath, excluded);
                if (below || !SameButTime(existing.Entry, entry))
                {
                    existing.Entry = entry;
                    applied = true;
                }

                continue;
            }

            if (entry.Kind == FileKind.Directory && child.Children!.Count > 0)
            {
                CleanBelow(child, childPath, excluded);
                if (child.Children.Count == 0 && !lower.Children!.ContainsKey(name))
                {
                    continue; // made only to hold what is left out (/etc/ssh for the node's host keys): no change
                }
            }

            lower.Children![name] = child;
            applied = true;
        }

        return applied;
    }

    private static bool SameButTime(TreeEntry a, TreeEntry b) =>
        a.Permissions == b.Permissions && a.Uid == b.Uid && a.Gid == b.Gid && Diff.TreeDiff.Differences(a, b, compareTree: false).All(what => what == "mtime");

    /// <summary>A new or opaque directory: its own entries, without overlay attributes, whiteouts (nothing under it
    /// to hide) or excluded paths.</summary>
    private static void CleanBelow(MemoryNode dir, byte[] path, Sync.SyncExcludes excluded)
    {
        foreach (var (name, child) in dir.Children!.ToList())
        {
            var childPath = DirectoryHandle.Join(path, name);
            if (IsWhiteout(child.Entry) || excluded.Contains(childPath))
            {
                dir.Children!.Remove(name);
                continue;
            }

            Clean(child.Entry, childPath);
            if (child.Entry.Kind == FileKind.Directory)
            {
                CleanBelow(child, childPath, excluded);
            }
        }
    }

    private static bool IsWhiteout(TreeEntry entry) => entry.Kind == FileKind.CharDevice && entry.RdevMajor == 0 && entry.RdevMinor == 0;

    /// <summary>Drops overlayfs's attributes from ENTRY; returns whether it marked the directory opaque.</summary>
    private static bool Clean(TreeEntry entry, byte[] path)
    {
        var opaque = false;
        var kept = new List<KeyValuePair<byte[], byte[]>>(entry.Xattrs.Count);
        foreach (var xattr in entry.Xattrs)
        {
            var name = xattr.Key.AsSpan();
            if (name.SequenceEqual(Redirect) || name.SequenceEqual(Metacopy))
            {
                throw new CaptureRefusedException(
                    $"/{LinuxException.Printable(path)} carries {Encoding.ASCII.GetString(name)}: a renamed directory or a metadata-only copy, which Sidus's overlays never make; nothing was recorded");
            }

            if (name.SequenceEqual(Opaque))
            {
                opaque = xattr.Value.AsSpan().SequenceEqual("y"u8);
            }
            else if (!name.StartsWith(OverlayPrefix))
            {
                kept.Add(xattr);
            }
        }

        entry.Xattrs = kept;
        return opaque;
    }
}
