namespace Sidus.Linux;

/// <summary>The kinds of file a Linux tree holds. Values are persisted in store manifests: never renumber.</summary>
public enum FileKind : byte
{
    Regular = 1,
    Directory = 2,
    Symlink = 3,
    CharDevice = 4,
    BlockDevice = 5,
    Fifo = 6,
    Socket = 7,
}

/// <summary>What lstat/statx says of one file.</summary>
public readonly record struct FileStatus(
    FileKind Kind,
    uint Permissions,
    uint Uid,
    uint Gid,
    long Size,
    long Blocks,
    ulong Inode,
    ulong Device,
    uint LinkCount,
    long MtimeSeconds,
    uint MtimeNanoseconds,
    long CtimeSeconds,
    uint CtimeNanoseconds,
    uint RdevMajor,
    uint RdevMinor)
{
    public const uint S_IFMT = 0xF000;

    /// <summary>How <see cref="Device"/> holds a filesystem's device number (as /proc/self/mountinfo gives it).</summary>
    public static ulong DeviceNumber(uint major, uint minor) => ((ulong)major << 32) | minor;

    /// <summary>True when the file has fewer allocated blocks than its size needs: it may have holes.</summary>
    public bool MayBeSparse => Kind == FileKind.Regular && Blocks * 512 < Size;

    public static FileKind KindFromMode(uint mode) => (mode & S_IFMT) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.Symlink,
        0x2000 => FileKind.CharDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        _ => throw new InvalidDataException($"unknown file type in mode {mode:o}"),
    };

    public static uint ModeBitsOf(FileKind kind) => kind switch
    {
        FileKind.Regular => 0x8000,
        FileKind.Directory => 0x4000,
        FileKind.Symlink => 0xA000,
        FileKind.CharDevice => 0x2000,
        FileKind.BlockDevice => 0x6000,
        FileKind.Fifo => 0x1000,
        FileKind.Socket => 0xC000,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
