namespace Sidus.Store.Import;

/// <summary>What a tar member is. Contiguous files (type 7) read as regular files.</summary>
public enum TarMemberKind
{
    Regular,
    HardLink,
    Symlink,
    CharDevice,
    BlockDevice,
    Directory,
    Fifo,
}

/// <summary>
/// One tar member with its extended headers already applied. Names and link targets are bytes exactly as the
/// archive has them (not normalised). <see cref="Data"/> reads the member's stored data and is valid until the next
/// member is read.
/// </summary>
public sealed class TarMember
{
    public required byte[] Path { get; init; }
    public required TarMemberKind Kind { get; init; }

    /// <summary>Permission bits including setuid, setgid and sticky (mode &amp; 07777).</summary>
    public uint Permissions { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public long MtimeSeconds { get; init; }
    public uint MtimeNanoseconds { get; init; }

    /// <summary>Regular files: the logical size (holes included, for sparse members).</summary>
    public long Size { get; init; }

    /// <summary>Bytes of data stored in the archive for this member (sparse: the data extents only).</summary>
    public long DataLength { get; init; }

    /// <summary>Sparse members: where the data lies in the file; null for ordinary files.</summary>
    public IReadOnlyList<Extent>? Extents { get; init; }

    /// <summary>Symlinks: the target; hard links: the path of the member linked to.</summary>
    public byte[]? LinkTarget { get; init; }

    public uint DevMajor { get; init; }
    public uint DevMinor { get; init; }

    /// <summary>Extended attributes sorted by name (ACLs as system.posix_acl_* values).</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Xattrs { get; init; } = [];

    /// <summary>Where the member's first header starts in the (uncompressed) archive.</summary>
    public long HeaderOffset { get; init; }

    /// <summary>Where the member's data starts in the (uncompressed) archive.</summary>
    public long DataOffset { get; init; }

    public Stream Data { get; internal set; } = Stream.Null;
}
