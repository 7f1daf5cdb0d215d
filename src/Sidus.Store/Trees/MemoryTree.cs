using Sidus.Store.Packs;

namespace Sidus.Store.Trees;

/// <summary>
/// A version being assembled in memory (from a directory walk, a tar stream or OCI layers), then written as tree
/// objects bottom-up. Hard links are nodes sharing one <see cref="LinkKey"/>.
/// </summary>
public sealed class MemoryTree
{
    public MemoryTree(TreeEntry rootEntry) => Root = new MemoryNode(rootEntry);

    public MemoryNode Root { get; }

    /// <summary>A stored version's whole tree, in memory to be changed (a node's overlay laid over it).</summary>
    public static MemoryTree Load(Func<ObjectId, List<TreeEntry>> readTree, TreeEntry root)
    {
        var tree = new MemoryTree(root.WithName([]));
        var links = new Dictionary<uint, LinkKey>();
        Fill(readTree, tree.Root, root.Tree, links);
        return tree;
    }

    /// <summary>One stored entry, with everything under it when it is a directory, as a node to put in a tree.</summary>
    public static MemoryNode LoadNode(Func<ObjectId, List<TreeEntry>> readTree, TreeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(readTree);
        var node = new MemoryNode(entry);
        if (entry.Kind == FileKind.Directory)
        {
            Fill(readTree, node, entry.Tree, []);
        }

        return node;
    }

    private static void Fill(Func<ObjectId, List<TreeEntry>> readTree, MemoryNode dir, ObjectId id, Dictionary<uint, LinkKey> links)
    {
        foreach (var entry in readTree(id))
        {
            var node = new MemoryNode(entry);
            dir.Children![entry.Name] = node;
            if (entry.Kind == FileKind.Directory)
            {
                Fill(readTree, node, entry.Tree, links);
            }
            else if (entry.LinkGroup != 0)
            {
                if (!links.TryGetValue(entry.LinkGroup, out var key))
                {
                    key = new LinkKey();
                    links[entry.LinkGroup] = key;
                }

                node.Link = key;
            }
        }
    }

    /// <summary>The directory at PATH (components), created with default metadata where missing.</summary>
    public MemoryNode Directory(IReadOnlyList<byte[]> path, Func<byte[], TreeEntry> makeDirectory)
    {
        var node = Root;
        foreach (var name in path)
        {
            if (!node.Children!.TryGetValue(name, out var child) || child.Entry.Kind != FileKind.Directory)
            {
                child = new MemoryNode(makeDirectory(name));
                node.Children[name] = child;
            }

            node = child;
        }

        return node;
    }

    public MemoryNode? Find(IReadOnlyList<byte[]> path)
    {
        var node = Root;
        foreach (var name in path)
        {
            if (node.Children is null || !node.Children.TryGetValue(name, out var child))
            {
                return null;
            }

            node = child;
        }

        return node;
    }

    /// <summary>Writes every tree object through WRITER; returns the root entry (with its tree id) and counts.</summary>
    public (TreeEntry Root, TreeStats Stats) Write(ObjectWriter writer)
    {
        var linkCounts = new Dictionary<LinkKey, int>();
        CountLinks(Root, linkCounts);
        var context = new WriteContext(writer, linkCounts);
        var rootEntry = WriteNode(Root, context);
        return (rootEntry, new TreeStats(context.Files, context.Entries, context.Bytes));
    }

    private static void CountLinks(MemoryNode node, Dictionary<LinkKey, int> counts)
    {
        foreach (var child in node.Children!.Values)
        {
            if (child.Children is not null)
            {
                CountLinks(child, counts);
            }
            else if (child.Link is { } key)
            {
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
    }

    private static TreeEntry WriteNode(MemoryNode dir, WriteContext context)
    {
        var entries = new List<TreeEntry>(dir.Children!.Count);
        foreach (var (name, child) in dir.Children)
        {
            context.Entries++;
            TreeEntry entry;
            if (child.Children is not null)
            {
                entry = WriteNode(child, context).WithName(name);
            }
            else
            {
                entry = child.Entry.WithName(name);
                entry.LinkGroup = 0;
                var counted = true;
                if (child.Link is { } key && context.LinkCounts[key] > 1)
                {
                    if (!context.Groups.TryGetValue(key, out var group))
                    {
                        group = (uint)context.Groups.Count + 1;
                        context.Groups[key] = group;
                    }
                    else
                    {
                        counted = false;
                    }

                    entry.LinkGroup = group;
                }

                if (entry.Kind == FileKind.Regular)
                {
                    context.Files++;
                    if (counted)
                    {
                        context.Bytes += entry.Size;
                    }
                }
            }

            entries.Add(entry);
        }

        var data = TreeCodec.Encode(entries);
        var id = ObjectId.Hash(data);
        context.Writer.Put(id, ObjectKind.Tree, data);
        var self = dir.Entry.WithName(dir.Entry.Name);
        self.Tree = id;
        return self;
    }

    private sealed class WriteContext(ObjectWriter writer, Dictionary<LinkKey, int> linkCounts)
    {
        public ObjectWriter Writer { get; } = writer;
        public Dictionary<LinkKey, int> LinkCounts { get; } = linkCounts;
        public Dictionary<LinkKey, uint> Groups { get; } = new();
        public long Files { get; set; }
        public long Entries { get; set; }
        public long Bytes { get; set; }
    }
}

/// <summary>A file or directory of a <see cref="MemoryTree"/>; directories have children.</summary>
public sealed class MemoryNode
{
    public MemoryNode(TreeEntry entry)
    {
        Entry = entry;
        if (entry.Kind == FileKind.Directory)
        {
            Children = new SortedDictionary<byte[], MemoryNode>(ByteComparer.Instance);
        }
    }

    public TreeEntry Entry { get; set; }

    public SortedDictionary<byte[], MemoryNode>? Children { get; }

    /// <summary>Shared by every name of one hard-linked file.</summary>
    public LinkKey? Link { get; set; }
}

/// <summary>Identity of a hard-linked file (compared by reference).</summary>
public sealed class LinkKey;
