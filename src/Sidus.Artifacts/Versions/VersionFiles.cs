using Sidus.Store.Trees;

namespace Sidus.Artifacts.Versions;

/// <summary>
/// Looks files up by path inside a stored version, following symlinks the way the image itself would see them
/// (absolute targets resolve from the image's root, never the host's). Directory listings are cached. The one walker
/// over a version's tree: the kernel lookup, the initramfs builder and the boot files the server hands out all use it.
/// </summary>
public sealed class VersionFiles(Repository repository, Commit commit)
{
    /// <summary>Symlink hops followed in one lookup before giving up: the kernel's own limit for a path (MAXSYMLINKS).</summary>
    public const int MaxLinkHops = 40;
    private readonly Dictionary<ObjectId, List<TreeEntry>> _trees = [];

    public Repository Repository { get; } = repository;

    /// <summary>The version's commit (image name, sequence, root).</summary>
    public Commit Commit => commit;

    /// <summary>The entries of the directory at PATH (after resolving it), or null when it is not a directory.</summary>
    public List<TreeEntry>? List(string path) =>
        TryResolve(path, out var entry, out _) && entry.Kind == FileKind.Directory ? Tree(entry.Tree) : null;

    /// <summary>Resolves PATH (absolute within the image); RESOLVED is the canonical path with no symlink left.</summary>
    public bool TryResolve(string path, out TreeEntry entry, out string resolved, bool followLast = true)
    {
        var hops = 0;
        return TryResolve(Split(path), followLast, ref hops, out entry, out resolved);
    }

    public byte[] ReadAll(TreeEntry file)
    {
        if (file.Kind != FileKind.Regular)
        {
            throw new StoreException($"{Encoding.UTF8.GetString(file.Name)} is not a regular file");
        }

        if (file.DataLength == 0)
        {
            return [];
        }

        using var data = new MemoryStream((int)file.DataLength);
        foreach (var piece in ContentStore.Read(Repository.Objects, file.Content))
        {
            data.Write(piece.Span);
        }

        return data.ToArray();
    }

    public byte[]? TryReadFile(string path) =>
        TryResolve(path, out var entry, out _) && entry.Kind == FileKind.Regular ? ReadAll(entry) : null;

    private bool TryResolve(List<string> parts, bool followLast, ref int hops, out TreeEntry entry, out string resolved)
    {
        var stack = new List<(string Name, TreeEntry Entry)>();
        var queue = new Queue<string>(parts);
        entry = commit.Root;
        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            if (name == "..")
            {
                if (stack.Count > 0)
                {
                    stack.RemoveAt(stack.Count - 1);
                }

                continue;
            }

            var current = stack.Count > 0 ? stack[^1].Entry : commit.Root;
            if (current.Kind != FileKind.Directory)
            {
                resolved = string.Empty;
                return false;
            }

            var bytes = Encoding.UTF8.GetBytes(name);
            var child = Tree(current.Tree).Find(e => e.Name.AsSpan().SequenceEqual(bytes));
            if (child is null)
            {
                resolved = string.Empty;
                return false;
            }

            if (child.Kind == FileKind.Symlink && (queue.Count > 0 || followLast))
            {
                if (++hops > MaxLinkHops)
                {
                    resolved = string.Empty;
                    return false;
                }

                var target = Encoding.UTF8.GetString(child.Target ?? []);
                if (target.StartsWith('/'))
                {
                    stack.Clear();
                }

                var rest = queue.ToList();
                queue = new Queue<string>(Split(target).Concat(rest));
                continue;
            }

            stack.Add((name, child));
        }

        entry = stack.Count > 0 ? stack[^1].Entry : commit.Root;
        resolved = "/" + string.Join('/', stack.Select(s => s.Name));
        return true;
    }

    private List<TreeEntry> Tree(ObjectId id)
    {
        if (!_trees.TryGetValue(id, out var entries))
        {
            entries = Repository.ReadTree(id);
            _trees[id] = entries;
        }

        return entries;
    }

    private static List<string> Split(string path) =>
        [.. path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".")];
}
