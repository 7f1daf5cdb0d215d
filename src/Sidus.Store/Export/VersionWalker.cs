namespace Sidus.Store.Export;

/// <summary>
/// Every entry of a version in archive order: a directory before what it holds, names sorted by bytes (the order
/// checkout uses, so the first name of a hard link group is the same everywhere). The root comes first, with an
/// empty path.
/// </summary>
public static class VersionWalker
{
    public static IEnumerable<(byte[] Path, TreeEntry Entry)> Walk(Repository repository, Commit commit, CancellationToken cancellation)
    {
        yield return ([], commit.Root);
        foreach (var item in WalkTree(repository, commit.Root.Tree, [], cancellation))
        {
            yield return item;
        }
    }

    /// <summary>How many names each hard link group has (newc cpio needs to know which name is the last).</summary>
    public static Dictionary<uint, int> LinkGroupSizes(Repository repository, Commit commit, CancellationToken cancellation)
    {
        var sizes = new Dictionary<uint, int>();
        foreach (var (_, entry) in Walk(repository, commit, cancellation))
        {
            if (entry.LinkGroup != 0)
            {
                sizes[entry.LinkGroup] = sizes.GetValueOrDefault(entry.LinkGroup) + 1;
            }
        }

        return sizes;
    }

    private static IEnumerable<(byte[] Path, TreeEntry Entry)> WalkTree(Repository repository, Objects.ObjectId tree, byte[] prefix, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        foreach (var entry in repository.ReadTree(tree))
        {
            var path = DirectoryHandle.Join(prefix, entry.Name);
            yield return (path, entry);
            if (entry.Kind == FileKind.Directory)
            {
                foreach (var item in WalkTree(repository, entry.Tree, path, cancellation))
                {
                    yield return item;
                }
            }
        }
    }
}
