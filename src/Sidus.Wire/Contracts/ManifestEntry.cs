namespace Sidus.Wire.Contracts;

/// <summary>A data extent of a sparse file: bytes [Offset, Offset+Length) hold data, the rest are holes.</summary>
public readonly record struct ManifestExtent(long Offset, long Length);

/// <summary>One line of a version manifest (<see cref="ManifestFormat"/>): one name of the version with its metadata.</summary>
public sealed class ManifestEntry
{
    /// <summary>What the line describes; never a socket (sockets are left out of manifests).</summary>
    public required FileKind Kind { get; init; }

    /// <summary>Relative to the version's root, as bytes; empty for the root itself (written '.').</summary>
    public required byte[] Path { get; init; }

    /// <summary>Permission bits including setuid, setgid and sticky (mode &amp; 07777).</summary>
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public long MtimeSeconds { get; init; }
    public uint MtimeNanoseconds { get; init; }

    /// <summary>Regular files: the logical size, holes included; 0 for the rest.</summary>
    public long Size { get; init; }

    /// <summary>Regular files: the SHA-256 of the data (of its extents, when sparse); null for the rest.</summary>
    public byte[]? Content { get; init; }

    /// <summary>Non-zero for files sharing an inode: the first of a group carries the data, the others link to it.</summary>
    public uint LinkGroup { get; init; }
    public uint Major { get; init; }
    public uint Minor { get; init; }

    /// <summary>Symlinks: the link text, as bytes.</summary>
    public byte[]? Target { get; init; }

    /// <summary>Sparse regular files: where the data lies; null for ordinary files.</summary>
    public IReadOnlyList<ManifestExtent>? Extents { get; init; }

    /// <summary>Extended attributes (capabilities, ACLs, SELinux labels) in the order the store keeps them.</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Xattrs { get; init; } = [];

    /// <summary>The bytes the server sends for this file: all of it, or only its data extents when it is sparse.</summary>
    public long DataLength => Extents is null ? Size : Extents.Sum(e => e.Length);
}
