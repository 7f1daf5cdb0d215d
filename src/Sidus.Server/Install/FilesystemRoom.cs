using Sidus.Linux;
using Sidus.Nodes.Layouts;

namespace Sidus.Server.Install;

/// <summary>
/// Whether each filesystem an install makes can hold what the version puts there (docs/installed-nodes.md): the
/// files below its mount point but not below a deeper one the install mounts, against the room the filesystem
/// leaves once its own metadata is made. An estimate that errs towards going on: an install it lets through that
/// then fills a disk is stopped by the agent's full-disk error; one it refuses never touched the disk.
/// </summary>
public static class FilesystemRoom
{
    private const long MiB = 1L << 20;

    /// <summary>Each filesystem the install mounts to write the version: what the version puts there and its room.</summary>
    public static IReadOnlyList<MountRoom> Measure(Layout layout, LayoutPlan plan, VersionFootprint footprint)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(footprint);

        // A preserved filesystem is not mounted while the version is written: what falls below it lands on the one above.
        var written = layout.OfType<MountItem>().Select(m => (Mount: m, Format: (FormatItem)layout[m.Device]))
            .Where(x => !x.Format.Preserve && x.Format.FsType != "swap").ToList();
        var paths = written.Select(x => x.Mount.Path).ToList();
        return [.. written.Select(x =>
        {
            var nested = paths.Where(p => Nearest(p, paths) == x.Mount.Path);
            var bytes = plan.Volumes.First(v => v.Id == x.Format.Volume).Size;
            return new MountRoom(x.Mount.Path, x.Format.Id, x.Format.FsType, x.Format.Volume, bytes,
                footprint.BytesUnder(x.Mount.Path) - nested.Sum(footprint.BytesUnder), Room(x.Format.FsType, bytes));
        })];
    }

    /// <summary>Refuses the first filesystem whose files do not fit, naming the sizes and what to change.</summary>
    public static void Check(string layoutName, string imageRef, IEnumerable<MountRoom> rooms)
    {
        if (rooms.FirstOrDefault(r => !r.Fits) is { } full)
        {
            throw new InstallPlanException(Refusal(layoutName, imageRef, full, atInstall: true));
        }
    }

    /// <summary>Why FULL cannot hold the version, and what to change; AT INSTALL adds that the node's disk is untouched.</summary>
    public static string Refusal(string layoutName, string imageRef, MountRoom full, bool atInstall) =>
        $"layout {layoutName}: {imageRef} puts {ByteUnits.Format(full.Need)} of files on {full.Path}, but filesystem '{full.Format}' " +
        $"({full.FsType} on '{full.Volume}', {ByteUnits.Format(full.VolumeBytes)}) has room for about {ByteUnits.Format(Math.Max(0, full.Room ?? 0))}" +
        (atInstall ? ": nothing was touched" : string.Empty) +
        $". Give '{full.Volume}' more room ('size: rest' takes what the disk has left), or put a part of the tree (/var, /usr) on a filesystem of its own";

    /// <summary>
    /// What a new filesystem of BYTES leaves for files, for the types whose overhead is known; null for the others
    /// (not checked). ext4 as Debian's mke2fs makes it by default: 4 KiB blocks and a 256-byte inode per 16 KiB
    /// (1 KiB blocks and an inode per 4 KiB below 512 MiB, its "small" type), the journal its size calls for, a
    /// thousandth for bitmaps and group descriptors. Reserved blocks count as room: the install writes as root.
    /// xfs: its 64 MiB log (mkfs.xfs's least since it refuses filesystems under 300 MiB). vfat: its two FATs, a
    /// thousandth. Checked against mkfs itself (FilesystemRoomTests): never less than it leaves, at most a percent more.
    /// </summary>
    public static long? Room(string fsType, long bytes) => fsType switch
    {
        "ext4" or "ext3" => bytes - Journal(bytes) - InodeTables(bytes) - (bytes / 1000),
        "ext2" => bytes - InodeTables(bytes) - (bytes / 1000),
        "xfs" => bytes - Math.Min(64 * MiB, bytes / 4),
        "vfat" => bytes - (bytes / 1000),
        _ => null,
    };

    private static bool Small(long bytes) => bytes < 512 * MiB;

    private static long InodeTables(long bytes) => Small(bytes) ? bytes / 16 : bytes / 64;

    /// <summary>mke2fs's default journal: a number of blocks by the filesystem's count of blocks.</summary>
    private static long Journal(long bytes)
    {
        var block = Small(bytes) ? 1024L : 4096L;
        var blocks = (bytes / block) switch
        {
            < 2048 => 0,
            < 32768 => 1024,
            < 256 * 1024 => 4096,
            < 512 * 1024 => 8192,
            < 4096 * 1024 => 16384,
            < 8192 * 1024 => 32768,
            < 16384 * 1024 => 65536,
            < 32768 * 1024 => 131072,
            _ => 262144L,
        };
        return blocks * block;
    }

    /// <summary>The deepest of PATHS strictly above PATH, or null.</summary>
    private static string? Nearest(string path, IEnumerable<string> paths) =>
        paths.Where(p => p != path && Below(path, p)).MaxBy(p => p.Length);

    private static bool Below(string path, string above) =>
        above == "/" || path.StartsWith(above + "/", StringComparison.Ordinal);
}

/// <summary>A filesystem the version is written to: NEED bytes of files against ROOM (null: a type not checked).</summary>
public sealed record MountRoom(string Path, string Format, string FsType, string Volume, long VolumeBytes, long Need, long? Room)
{
    public bool Fits => Room is not { } room || Need <= room;
}
