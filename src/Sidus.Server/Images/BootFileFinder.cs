using System.Text;
using Sidus.Linux;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Trees;

namespace Sidus.Server.Images;

/// <summary>
/// Finds an image version's kernel and initramfs in its tree, the way Debian lays them out: the /vmlinuz and
/// /initrd.img symlinks when present, else the newest /boot/vmlinuz-VERSION and the /boot/initrd.img-VERSION that
/// goes with it. Links are followed inside the tree only (a bounded number of hops); the host's files never count.
/// </summary>
public static class BootFileFinder
{
    /// <summary>Symlink hops followed before giving up (the kernel's own limit for a path is 40).</summary>
    public const int MaxLinkHops = 8;

    /// <summary>Returns the boot files, or null with <paramref name="problem"/> saying what is missing.</summary>
    public static BootFiles? Find(Repository repository, ObjectId version, Commit commit, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(commit);
        var tree = new TreeWalker(repository, commit.Root.Tree);
        var kernel = tree.Resolve("vmlinuz") ?? Newest(tree, "vmlinuz-");
        if (kernel is null)
        {
            problem = $"image {commit.Image}@{commit.Sequence} has no kernel (/vmlinuz or /boot/vmlinuz-*): install a kernel package in it";
            return null;
        }

        if (kernel.Value.Entry.Extents is not null)
        {
            problem = $"the kernel {kernel.Value.Path} of {commit.Image}@{commit.Sequence} is a sparse file, which is not served";
            return null;
        }

        var suffix = kernel.Value.Path.StartsWith("boot/vmlinuz-", StringComparison.Ordinal) ? kernel.Value.Path["boot/vmlinuz-".Length..] : null;
        var initrd = tree.Resolve("initrd.img")
            ?? (suffix is null ? null : tree.Resolve("boot/initrd.img-" + suffix))
            ?? Newest(tree, "initrd.img-");
        problem = null;
        return new BootFiles(
            version, commit.Image, commit.Sequence,
            new BootFile("/" + kernel.Value.Path, kernel.Value.Entry.Content, kernel.Value.Entry.Size),
            initrd is { Entry.Extents: null } i ? new BootFile("/" + i.Path, i.Entry.Content, i.Entry.Size) : null);
    }

    private static (string Path, TreeEntry Entry)? Newest(TreeWalker tree, string prefix)
    {
        var boot = tree.Directory("boot");
        if (boot is null)
        {
            return null;
        }

        var best = boot
            .Where(e => e.Kind == FileKind.Regular && e.Name.AsSpan().StartsWith(Encoding.ASCII.GetBytes(prefix)))
            .Select(e => Encoding.UTF8.GetString(e.Name))
            .OrderBy(n => n, VersionComparer.Instance)
            .LastOrDefault();
        return best is null ? null : tree.Resolve("boot/" + best);
    }

    /// <summary>Walks paths in one version's tree, following symlinks within it.</summary>
    private sealed class TreeWalker(Repository repository, ObjectId root)
    {
        private readonly Dictionary<ObjectId, List<TreeEntry>> _trees = [];

        public List<TreeEntry>? Directory(string path)
        {
            var entry = Lookup(path, 0, out _);
            return entry is { Kind: FileKind.Directory } ? Tree(entry.Tree) : path.Length == 0 ? Tree(root) : null;
        }

        /// <summary>The regular file at <paramref name="path"/> (links followed) and its final path.</summary>
        public (string Path, TreeEntry Entry)? Resolve(string path)
        {
            var entry = Lookup(path, 0, out var final);
            return entry is { Kind: FileKind.Regular } ? (final, entry) : null;
        }

        private TreeEntry? Lookup(string path, int hops, out string final)
        {
            final = path;
            var parts = new List<string>();
            foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part == "..")
                {
                    if (parts.Count > 0)
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }
                }
                else if (part != ".")
                {
                    parts.Add(part);
                }
            }

            var entries = Tree(root);
            TreeEntry? entry = null;
            for (var i = 0; i < parts.Count; i++)
            {
                var name = Encoding.UTF8.GetBytes(parts[i]);
                entry = entries.FirstOrDefault(e => e.Name.AsSpan().SequenceEqual(name));
                if (entry is null)
                {
                    return null;
                }

                if (entry.Kind == FileKind.Symlink)
                {
                    if (hops >= MaxLinkHops || entry.Target is null)
                    {
                        return null;
                    }

                    var target = Encoding.UTF8.GetString(entry.Target);
                    var parent = string.Join('/', parts.Take(i));
                    var rest = string.Join('/', parts.Skip(i + 1));
                    var joined = target.StartsWith('/') ? target : parent + "/" + target;
                    return Lookup(rest.Length == 0 ? joined : joined + "/" + rest, hops + 1, out final);
                }

                if (i < parts.Count - 1)
                {
                    if (entry.Kind != FileKind.Directory)
                    {
                        return null;
                    }

                    entries = Tree(entry.Tree);
                }
            }

            final = string.Join('/', parts);
            return entry;
        }

        private List<TreeEntry> Tree(ObjectId id)
        {
            if (!_trees.TryGetValue(id, out var entries))
            {
                entries = repository.ReadTree(id);
                _trees[id] = entries;
            }

            return entries;
        }
    }

    /// <summary>Orders "vmlinuz-6.1.0-9-amd64" before "vmlinuz-6.1.0-18-amd64": digit runs compare as numbers.</summary>
    internal sealed class VersionComparer : IComparer<string>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return string.CompareOrdinal(x, y);
            }

            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
                {
                    var si = i;
                    var sj = j;
                    while (i < x.Length && char.IsAsciiDigit(x[i]))
                    {
                        i++;
                    }

                    while (j < y.Length && char.IsAsciiDigit(y[j]))
                    {
                        j++;
                    }

                    var a = x[si..i].TrimStart('0');
                    var b = y[sj..j].TrimStart('0');
                    var c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
                    if (c != 0)
                    {
                        return c;
                    }
                }
                else
                {
                    if (x[i] != y[j])
                    {
                        return x[i].CompareTo(y[j]);
                    }

                    i++;
                    j++;
                }
            }

            return (x.Length - i).CompareTo(y.Length - j);
        }
    }
}
