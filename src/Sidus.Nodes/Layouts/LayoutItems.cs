using System.Collections.Frozen;

namespace Sidus.Nodes.Layouts;

/// <summary>One entry of a layout's ordered list. <see cref="Line"/> is where it starts in the file, for errors.</summary>
public abstract record LayoutItem(string Id, int Line)
{
    /// <summary>Kept as it is: never wiped, never reformatted (a /scratch that must survive a reinstall).</summary>
    public bool Preserve { get; init; }

    public abstract string Type { get; }
}

/// <summary>How the installer finds a disk: never a /dev/sdX name, which changes between boots and kernels.</summary>
public sealed record DiskMatch
{
    public string? Serial { get; init; }
    public string? Wwn { get; init; }

    /// <summary>A stable path: /dev/disk/by-path/..., /dev/disk/by-id/...</summary>
    public string? Path { get; init; }

    public long? MinBytes { get; init; }
    public long? MaxBytes { get; init; }

    /// <summary>The first non-removable disk (by the kernel's order), among those not matched by an earlier item.</summary>
    public bool First { get; init; }

    public override string ToString() =>
        Serial is not null ? $"serial {Serial}" : Wwn is not null ? $"wwn {Wwn}" : Path is not null ? $"path {Path}" :
        MinBytes is not null || MaxBytes is not null ? $"size {(MinBytes is { } a ? ByteSize.Format(a) : "0")}-{(MaxBytes is { } b ? ByteSize.Format(b) : "any")}" :
        "the first non-removable disk";
}

public enum PartitionTable
{
    Gpt,
    Msdos,
}

public sealed record DiskItem(string Id, int Line, DiskMatch Match, PartitionTable Table) : LayoutItem(Id, Line)
{
    public override string Type => "disk";
}

public sealed record PartitionItem(string Id, int Line, string Disk, ByteSize Size, ImmutableArray<string> Flags) : LayoutItem(Id, Line)
{
    public const string Esp = "esp";
    public const string BiosGrub = "bios_grub";
    public const string Swap = "swap";
    public const string Raid = "raid";
    public const string Lvm = "lvm";
    public const string Boot = "boot";
    public static readonly string[] AllFlags = [Esp, BiosGrub, Swap, Raid, Lvm, Boot];

    public override string Type => "partition";
}

public sealed record RaidItem(string Id, int Line, string Name, int Level, ImmutableArray<string> Devices, ImmutableArray<string> Spares) : LayoutItem(Id, Line)
{
    public static readonly int[] Levels = [0, 1, 5, 6, 10];

    /// <summary>Longest name: mdadm keeps "HOST:NAME" in 32 bytes.</summary>
    public const int MaxName = 32;

    public override string Type => "raid";

    /// <summary>Fewest active members each level runs with.</summary>
    public static int MinimumDevices(int level) => level switch { 5 => 3, 6 => 4, _ => 2 };
}

public sealed record VolumeGroupItem(string Id, int Line, string Name, ImmutableArray<string> Devices) : LayoutItem(Id, Line)
{
    /// <summary>Names a group cannot take: its volumes appear as /dev/NAME/..., beside the system's own entries.</summary>
    public static readonly FrozenSet<string> Reserved = new[]
    {
        ".", "..", "block", "bus", "char", "cpu", "disk", "dri", "fd", "hugepages", "input", "mapper", "md", "mqueue", "net", "pts", "shm", "snd", "usb",
        "vfio", "lvm", "nbd",
    }.ToFrozenSet(StringComparer.Ordinal);

    public override string Type => "lvm_vg";
}

public sealed record LogicalVolumeItem(string Id, int Line, string Name, string VolumeGroup, ByteSize Size) : LayoutItem(Id, Line)
{
    private static readonly string[] ReservedParts = ["_cdata", "_cmeta", "_corig", "_mimage", "_mlog", "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata"];

    public override string Type => "lvm_lv";

    /// <summary>Names LVM keeps for its own hidden volumes (lvm(8), "VALID NAMES").</summary>
    public static bool IsReserved(string name) =>
        name is "." or ".." || name.StartsWith("snapshot", StringComparison.Ordinal) || name.StartsWith("pvmove", StringComparison.Ordinal) ||
        ReservedParts.Any(part => name.Contains(part, StringComparison.Ordinal));
}

public sealed record FormatItem(string Id, int Line, string Volume, string FsType, string? Label, string? Options) : LayoutItem(Id, Line)
{
    public static readonly string[] FsTypes = ["ext4", "xfs", "btrfs", "vfat", "swap"];

    public override string Type => "format";
}

public sealed record MountItem(string Id, int Line, string Device, string Path, string? Options) : LayoutItem(Id, Line)
{
    public override string Type => "mount";
}
