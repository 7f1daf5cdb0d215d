using Sidus.Wire.Contracts;

namespace Sidus.Store.Sync;

/// <summary>
/// A fetched manifest (<see cref="ManifestFormat"/>) as a sync's tree. Every entry must lie in a directory the
/// manifest made before it, with a plain name: a hostile manifest cannot name a path outside the target or twice.
/// Directories get made-up tree ids: the manifest's hash with the directory's number, unique to this manifest.
/// </summary>
public sealed class ManifestTree : ITreeSource
{
    private readonly Dictionary<ObjectId, List<TreeEntry>> _listings = [];

    /// <summary>ENTRIES as read from a manifest of VERSION whose SHA-256 is MANIFESTHASH.</summary>
    public ManifestTree(ObjectId version, ReadOnlySpan<byte> manifestHash, IReadOnlyList<ManifestEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0 || entries[0] is not { Kind: FileKind.Directory, Path.Length: 0 })
        {
            throw new InvalidDataException("the manifest does not start with the root directory");
        }

        Version = version;
        var prefix = manifestHash[..24].ToArray();
        var directories = new Dictionary<byte[], ObjectId>(ByteComparer.Instance);
        ObjectId NewDirectory(byte[] path)
        {
            Span<byte> id = stackalloc byte[ObjectId.Size];
            prefix.CopyTo(id);
            BinaryPrimitives.WriteInt64BigEndian(id[24..], directories.Count);
            var tree = ObjectId.Read(id);
            directories.Add(path, tree);
            _listings.Add(tree, []);
            return tree;
        }

        Root = ToTree([], entries[0], NewDirectory([]));
        var names = new HashSet<byte[]>(ByteComparer.Instance) { Array.Empty<byte>() };
        foreach (var entry in entries.Skip(1))
        {
            var slash = Array.LastIndexOf(entry.Path, (byte)'/');
            var (parent, name) = slash < 0 ? ([], entry.Path) : (entry.Path[..slash], entry.Path[(slash + 1)..]);
            if (!directories.TryGetValue(parent, out var parentTree) || name.Length == 0 || name is [(byte)'.'] or [(byte)'.', (byte)'.'])
            {
                throw new InvalidDataException($"manifest entry {LinuxException.Printable(entry.Path)} is not inside a directory the manifest made");
            }

            if (!names.Add(entry.Path))
            {
                throw new InvalidDataException($"manifest entry {LinuxException.Printable(entry.Path)} is there twice");
            }

            if (entry.Kind == FileKind.Regular && entry.DataLength > 0 && entry.Content is null)
            {
                throw new InvalidDataException($"manifest entry {LinuxException.Printable(entry.Path)} has data but no content id");
            }

            var tree = entry.Kind == FileKind.Directory ? NewDirectory(entry.Path) : ObjectId.Zero;
            _listings[parentTree].Add(ToTree(name, entry, tree));
        }
    }

    public ObjectId Version { get; }

    public TreeEntry Root { get; }

    public IReadOnlyList<TreeEntry> ReadTree(ObjectId tree) =>
        _listings.TryGetValue(tree, out var listing) ? listing : throw new ArgumentException($"no directory {tree} in this manifest", nameof(tree));

    private static TreeEntry ToTree(byte[] name, ManifestEntry entry, ObjectId tree) => new()
    {
        Name = name,
        Kind = entry.Kind,
        Permissions = entry.Mode,
        Uid = entry.Uid,
        Gid = entry.Gid,
        MtimeSeconds = entry.MtimeSeconds,
        MtimeNanoseconds = entry.MtimeNanoseconds,
        Xattrs = entry.Xattrs,
        Size = entry.Size,
        Content = entry.Content is { } content ? ObjectId.Read(content) : ObjectId.Zero,
        Extents = entry.Extents?.Select(e => new Extent(e.Offset, e.Length)).ToList(),
        LinkGroup = entry.LinkGroup,
        Tree = tree,
        Target = entry.Target,
        RdevMajor = entry.Major,
        RdevMinor = entry.Minor,
    };
}
