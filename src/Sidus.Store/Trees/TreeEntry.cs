namespace Sidus.Store.Trees;

/// <summary>A data extent of a sparse file: bytes [Offset, Offset+Length) hold data, the rest are holes.</summary>
public readonly record struct Extent(long Offset, long Length);

/// <summary>
/// One name in a directory with all the metadata Linux keeps for it. Names are bytes, as the kernel has them.
/// </summary>
public sealed class TreeEntry
{
    public required byte[] Name { get; init; }
    public required FileKind Kind { get; init; }

    /// <summary>Permission bits including setuid, setgid and sticky (mode &amp; 07777).</summary>
    public uint Permissions { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public long MtimeSeconds { get; set; }
    public uint MtimeNanoseconds { get; set; }

    /// <summary>Extended attributes sorted by name, POSIX ACLs included (system.posix_acl_*).</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Xattrs { get; set; } = [];

    /// <summary>Regular files: the logical size (holes included).</summary>
    public long Size { get; set; }

    /// <summary>Regular files: SHA-256 of the file's data (its data extents, for sparse files); zero when empty.</summary>
    public ObjectId Content { get; set; }

    /// <summary>Sparse regular files: where the data lies; null for ordinary files.</summary>
    public IReadOnlyList<Extent>? Extents { get; set; }

    /// <summary>Non-directories: 1-based hard link group within the version; 0 when the file has one name.</summary>
    public uint LinkGroup { get; set; }

    /// <summary>Directories: the id of the directory's tree object.</summary>
    public ObjectId Tree { get; set; }

    /// <summary>Symlinks: the target, as bytes.</summary>
    public byte[]? Target { get; set; }

    public uint RdevMajor { get; set; }
    public uint RdevMinor { get; set; }

    /// <summary>The bytes of data the file holds (its size less its holes).</summary>
    public long DataLength => Extents is null ? Size : Extents.Sum(e => e.Length);

    public TreeEntry WithName(byte[] name) => new()
    {
        Name = name,
        Kind = Kind,
        Permissions = Permissions,
        Uid = Uid,
        Gid = Gid,
        MtimeSeconds = MtimeSeconds,
        MtimeNanoseconds = MtimeNanoseconds,
        Xattrs = Xattrs,
        Size = Size,
        Content = Content,
        Extents = Extents,
        LinkGroup = LinkGroup,
        Tree = Tree,
        Target = Target,
        RdevMajor = RdevMajor,
        RdevMinor = RdevMinor,
    };
}
