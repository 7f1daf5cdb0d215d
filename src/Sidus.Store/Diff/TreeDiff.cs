namespace Sidus.Store.Diff;

public enum ChangeKind
{
    Added,
    Removed,
    Modified,
}

/// <summary>One path that differs between two versions, and which of its attributes changed.</summary>
public sealed record PathChange(ChangeKind Kind, byte[] Path, FileKind FileKind, IReadOnlyList<string> What);

/// <summary>
/// Compares two versions. Identical subtrees have identical ids, so only directories that changed are read.
/// </summary>
public static class TreeDiff
{
    public static List<PathChange> Compare(Repository repository, TreeEntry oldRoot, TreeEntry newRoot)
    {
        var changes = new List<PathChange>();
        var what = Differences(oldRoot, newRoot, compareTree: false);
        if (what.Count > 0)
        {
            changes.Add(new PathChange(ChangeKind.Modified, "/"u8.ToArray(), FileKind.Directory, what));
        }

        CompareTrees(repository, oldRoot.Tree, newRoot.Tree, [], changes);
        return changes;
    }

    private static void CompareTrees(Repository repository, ObjectId oldTree, ObjectId newTree, byte[] prefix, List<PathChange> changes)
    {
        if (oldTree == newTree)
        {
            return;
        }

        var older = oldTree.IsZero ? [] : repository.ReadTree(oldTree);
        var newer = newTree.IsZero ? [] : repository.ReadTree(newTree);
        int i = 0, j = 0;
        while (i < older.Count || j < newer.Count)
        {
            var order = i == older.Count ? 1 : j == newer.Count ? -1 : older[i].Name.AsSpan().SequenceCompareTo(newer[j].Name);
            if (order < 0)
            {
                Removed(repository, older[i++], prefix, changes);
            }
            else if (order > 0)
            {
                Added(repository, newer[j++], prefix, changes);
            }
            else
            {
                var a = older[i++];
                var b = newer[j++];
                var path = DirectoryHandle.Join(prefix, a.Name);
                if (a.Kind != b.Kind)
                {
                    Removed(repository, a, prefix, changes);
                    Added(repository, b, prefix, changes);
                    continue;
                }

                var what = Differences(a, b, compareTree: false);
                if (what.Count > 0)
                {
                    changes.Add(new PathChange(ChangeKind.Modified, path, b.Kind, what));
                }

                if (a.Kind == FileKind.Directory)
                {
                    CompareTrees(repository, a.Tree, b.Tree, path, changes);
                }
            }
        }
    }

    /// <summary>The changes from a stored version (null: none yet) to a tree still in memory (a capture's dry run).</summary>
    public static List<PathChange> Compare(Repository repository, TreeEntry? oldRoot, MemoryTree newTree)
    {
        var changes = new List<PathChange>();
        var what = oldRoot is null ? [] : Differences(oldRoot, newTree.Root.Entry, compareTree: false);
        if (what.Count > 0)
        {
            changes.Add(new PathChange(ChangeKind.Modified, "/"u8.ToArray(), FileKind.Directory, what));
        }

        CompareWithMemory(repository, oldRoot?.Tree ?? ObjectId.Zero, newTree.Root, [], changes);
        return changes;
    }

    private static void CompareWithMemory(Repository repository, ObjectId oldTree, MemoryNode newer, byte[] prefix, List<PathChange> changes)
    {
        var older = oldTree.IsZero ? [] : repository.ReadTree(oldTree);
        var children = newer.Children?.Values.ToList() ?? [];
        int i = 0, j = 0;
        while (i < older.Count || j < children.Count)
        {
            var order = i == older.Count ? 1 : j == children.Count ? -1 : older[i].Name.AsSpan().SequenceCompareTo(children[j].Entry.Name);
            if (order < 0)
            {
                Removed(repository, older[i++], prefix, changes);
                continue;
            }

            var b = children[j++];
            var path = DirectoryHandle.Join(prefix, b.Entry.Name);
            if (order > 0)
            {
                AddedFromMemory(b, path, changes);
                continue;
            }

            var a = older[i++];
            if (a.Kind != b.Entry.Kind)
            {
                Removed(repository, a, prefix, changes);
                AddedFromMemory(b, path, changes);
                continue;
            }

            var what = Differences(a, b.Entry, compareTree: false);
            if (what.Count > 0)
            {
                changes.Add(new PathChange(ChangeKind.Modified, path, a.Kind, what));
            }

            if (a.Kind == FileKind.Directory)
            {
                CompareWithMemory(repository, a.Tree, b, path, changes);
            }
        }
    }

    private static void AddedFromMemory(MemoryNode node, byte[] path, List<PathChange> changes)
    {
        changes.Add(new PathChange(ChangeKind.Added, path, node.Entry.Kind, []));
        foreach (var child in node.Children?.Values ?? Enumerable.Empty<MemoryNode>())
        {
            AddedFromMemory(child, DirectoryHandle.Join(path, child.Entry.Name), changes);
        }
    }

    private static void Added(Repository repository, TreeEntry entry, byte[] prefix, List<PathChange> changes)
    {
        var path = DirectoryHandle.Join(prefix, entry.Name);
        changes.Add(new PathChange(ChangeKind.Added, path, entry.Kind, []));
        if (entry.Kind == FileKind.Directory)
        {
            CompareTrees(repository, ObjectId.Zero, entry.Tree, path, changes);
        }
    }

    private static void Removed(Repository repository, TreeEntry entry, byte[] prefix, List<PathChange> changes)
    {
        var path = DirectoryHandle.Join(prefix, entry.Name);
        if (entry.Kind == FileKind.Directory)
        {
            CompareTrees(repository, entry.Tree, ObjectId.Zero, path, changes);
        }

        changes.Add(new PathChange(ChangeKind.Removed, path, entry.Kind, []));
    }

    /// <summary>Names of the attributes that differ between two entries of the same kind.</summary>
    public static List<string> Differences(TreeEntry a, TreeEntry b, bool compareTree)
    {
        var what = new List<string>();
        if (a.Kind == FileKind.Regular && (a.Content != b.Content || a.Size != b.Size))
        {
            what.Add("content");
        }
        else if (a.Kind == FileKind.Regular && !SameExtents(a.Extents, b.Extents))
        {
            what.Add("holes");
        }

        if (a.Kind == FileKind.Symlink && !a.Target.AsSpan().SequenceEqual(b.Target))
        {
            what.Add("target");
        }

        if (a.RdevMajor != b.RdevMajor || a.RdevMinor != b.RdevMinor)
        {
            what.Add("device");
        }

        if (a.Permissions != b.Permissions)
        {
            what.Add($"mode {Convert.ToString(a.Permissions, 8).PadLeft(4, '0')}->{Convert.ToString(b.Permissions, 8).PadLeft(4, '0')}");
        }

        if (a.Uid != b.Uid || a.Gid != b.Gid)
        {
            what.Add($"owner {a.Uid}:{a.Gid}->{b.Uid}:{b.Gid}");
        }

        if (!SameXattrs(a, b))
        {
            what.Add("xattrs");
        }

        if (a.MtimeSeconds != b.MtimeSeconds || a.MtimeNanoseconds != b.MtimeNanoseconds)
        {
            what.Add("mtime");
        }

        if ((a.LinkGroup == 0) != (b.LinkGroup == 0))
        {
            what.Add("hardlinks");
        }

        if (compareTree && a.Tree != b.Tree)
        {
            what.Add("tree");
        }

        return what;
    }

    private static bool SameExtents(IReadOnlyList<Extent>? a, IReadOnlyList<Extent>? b) =>
        (a is null && b is null) || (a is not null && b is not null && a.SequenceEqual(b));

    private static bool SameXattrs(TreeEntry a, TreeEntry b) =>
        a.Xattrs.Count == b.Xattrs.Count &&
        a.Xattrs.Zip(b.Xattrs).All(p => p.First.Key.AsSpan().SequenceEqual(p.Second.Key) && p.First.Value.AsSpan().SequenceEqual(p.Second.Value));
}
