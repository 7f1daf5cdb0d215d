namespace Sidus.Wire.Contracts;

/// <summary>A disk as the installing agent finds it in sysfs (no udev runs in the initramfs).</summary>
/// <param name="Name">The kernel's name (vda, sda, nvme0n1): the device is /dev/NAME.</param>
/// <param name="ByPath">The /dev/disk/by-path name udev would give it (pci-0000:00:04.0), derived from sysfs.</param>
/// <param name="Table">The partition table it holds now: <see cref="InstallPlan.Gpt"/>, <see cref="InstallPlan.Msdos"/> or "none".</param>
/// <param name="Partitions">What it holds now: number, start and size in bytes, and the filesystem found on it ("" when none).</param>
public sealed record DiskFacts(string Name, long Bytes, bool Removable, string? Serial, string? Wwn, string? ByPath, string? Model, string Table,
    IReadOnlyList<ExistingPartition> Partitions);

/// <summary>A partition that is on a disk before the install.</summary>
public sealed record ExistingPartition(int Number, long Start, long Size, string FsType);

/// <summary>One partition to make (or keep, when <see cref="Preserve"/>): bytes, 1 MiB aligned.</summary>
public sealed record PlannedPartition(string Id, string Disk, int Number, long Start, long Size, string Role, bool Preserve);

/// <summary>A filesystem to make on a partition or a whole disk (or to keep, when <see cref="Preserve"/>).</summary>
public sealed record PlannedFormat(string Id, string Volume, string FsType, string? Label, string? Options, bool Preserve);

/// <summary>Where a filesystem is mounted in the installed system.</summary>
public sealed record PlannedMount(string Format, string Path, string? Options);

/// <summary>A disk of the plan: the layout's id and the device the server matched it to.</summary>
public sealed record PlannedDisk(string Id, string Device, string Table, bool Preserve);

/// <summary>An md array to make (metadata 1.2) of partitions or whole disks, by their ids; it appears as /dev/md/NAME.</summary>
public sealed record PlannedRaid(string Id, string Name, int Level, IReadOnlyList<string> Devices, IReadOnlyList<string> Spares)
{
    public bool Equals(PlannedRaid? other) => other is not null && (Id, Name, Level) == (other.Id, other.Name, other.Level) &&
        Devices.SequenceEqual(other.Devices) && Spares.SequenceEqual(other.Spares);

    public override int GetHashCode() => HashCode.Combine(Id, Name, Level);
}

/// <summary>An LVM volume group to make of partitions, disks or arrays, by their ids.</summary>
public sealed record PlannedVolumeGroup(string Id, string Name, IReadOnlyList<string> Devices)
{
    public bool Equals(PlannedVolumeGroup? other) => other is not null && (Id, Name) == (other.Id, other.Name) && Devices.SequenceEqual(other.Devices);

    public override int GetHashCode() => HashCode.Combine(Id, Name);
}

/// <summary>
/// A logical volume of <see cref="Group"/> (its id): <see cref="Size"/> bytes, or <see cref="Percent"/> of the group
/// when above 0 (LVM works it out from the group's true size), or what the group has left when <see cref="Rest"/>.
/// </summary>
public sealed record PlannedLogicalVolume(string Id, string Name, string Group, long Size, bool Rest, double Percent = 0);

/// <summary>
/// What the installing agent and the server say to each other (docs/installed-nodes.md). The agent POSTs its disks
/// (<see cref="FormatDisks"/>) to <see cref="PlanTemplate"/> with its session; the server matches the node's layout
/// to them and answers the plan (<see cref="Format"/>), or 409 with why it cannot (a disk too small, none that
/// matches, a preserved partition that is not there). Both are text, one item per line, fields separated by blanks
/// and each escaped as a URI component: the NativeAOT agent carries no JSON serializer, and a line is easy to read
/// in a log. Once the system is on the disk, the agent asks for its key (<see cref="KeyTemplate"/>) and, at the
/// end, POSTs <see cref="InstalledTemplate"/> (the version id, text/plain): the node is then "installed".
/// The agent builds in the plan's order: partitions, then md arrays, then volume groups and their logical volumes,
/// then filesystems on any of them.
/// </summary>
public sealed record InstallPlan(
    string Version, string ImageRef, string Firmware, string KernelArgs,
    IReadOnlyList<PlannedDisk> Disks, IReadOnlyList<PlannedPartition> Partitions, IReadOnlyList<PlannedRaid> Raids,
    IReadOnlyList<PlannedVolumeGroup> Groups, IReadOnlyList<PlannedLogicalVolume> LogicalVolumes,
    IReadOnlyList<PlannedFormat> Formats, IReadOnlyList<PlannedMount> Mounts)
{
    public const string PlanTemplate = "/api/nodes/{mac}/install/plan";
    public const string KeyTemplate = "/api/nodes/{mac}/install/key";
    public const string InstalledTemplate = "/api/nodes/{mac}/install/done";

    public const string Gpt = "gpt";
    public const string Msdos = "msdos";
    public const string Bios = "bios";
    public const string Uefi = "uefi";

    /// <summary>What a partition is for: its type in the table.</summary>
    public static class Roles
    {
        public const string Linux = "linux";
        public const string Esp = "esp";
        public const string BiosGrub = "bios_grub";
        public const string Swap = "swap";
        public const string Raid = "raid";
        public const string Lvm = "lvm";
    }

    private const string Header = "sidus-install-plan 1";
    private const string DisksHeader = "sidus-disks 1";

    public static string Plan(string mac) => PlanTemplate.Replace("{mac}", mac, StringComparison.Ordinal);

    public static string Key(string mac) => KeyTemplate.Replace("{mac}", mac, StringComparison.Ordinal);

    public static string Installed(string mac) => InstalledTemplate.Replace("{mac}", mac, StringComparison.Ordinal);

    /// <summary>The body of <see cref="InstalledTemplate"/>: "installed VERSION" after an install, "updated VERSION" after an update.</summary>
    public static string FormatDone(bool updated, string version) => (updated ? "updated " : "installed ") + version;

    public static bool TryParseDone(string? text, out bool updated, out string version)
    {
        var parts = (text ?? string.Empty).Trim().Split(' ');
        updated = parts is ["updated", _];
        version = parts.Length == 2 ? parts[1] : string.Empty;
        return parts is ["installed" or "updated", { Length: 64 }] && parts[1].All(char.IsAsciiHexDigitLower);
    }

    public string Format()
    {
        var text = new StringBuilder(Header).Append('\n');
        Line(text, "version", Version, ImageRef, Firmware, KernelArgs);
        foreach (var d in Disks)
        {
            Line(text, "disk", d.Id, d.Device, d.Table, Flag(d.Preserve));
        }

        foreach (var p in Partitions)
        {
            Line(text, "partition", p.Id, p.Disk, Number(p.Number), Number(p.Start), Number(p.Size), p.Role, Flag(p.Preserve));
        }

        foreach (var r in Raids)
        {
            Line(text, "raid", r.Id, r.Name, Number(r.Level), string.Join(',', r.Devices), string.Join(',', r.Spares));
        }

        foreach (var g in Groups)
        {
            Line(text, "vg", g.Id, g.Name, string.Join(',', g.Devices));
        }

        foreach (var l in LogicalVolumes)
        {
            Line(text, "lv", l.Id, l.Name, l.Group, Number(l.Size), Flag(l.Rest), l.Percent.ToString("R", CultureInfo.InvariantCulture));
        }

        foreach (var f in Formats)
        {
            Line(text, "format", f.Id, f.Volume, f.FsType, f.Label, f.Options, Flag(f.Preserve));
        }

        foreach (var m in Mounts)
        {
            Line(text, "mount", m.Format, m.Path, m.Options);
        }

        return text.ToString();
    }

    /// <summary>Reads <see cref="Format"/>'s text; anything else throws <see cref="FormatException"/> naming the line.</summary>
    public static InstallPlan Parse(string text)
    {
        var lines = Lines(text, Header);
        string?[]? version = null;
        List<PlannedDisk> disks = [];
        List<PlannedPartition> partitions = [];
        List<PlannedRaid> raids = [];
        List<PlannedVolumeGroup> groups = [];
        List<PlannedLogicalVolume> volumes = [];
        List<PlannedFormat> formats = [];
        List<PlannedMount> mounts = [];
        foreach (var (number, f) in lines)
        {
            switch (f[0], f.Length)
            {
                case ("version", 5): version = f; break;
                case ("disk", 5): disks.Add(new PlannedDisk(Need(f[1]), Need(f[2]), Need(f[3]), f[4] == "1")); break;
                case ("partition", 8):
                    partitions.Add(new PlannedPartition(Need(f[1]), Need(f[2]), (int)Long(f[3], number), Long(f[4], number), Long(f[5], number), Need(f[6]), f[7] == "1"));
                    break;
                case ("raid", 6): raids.Add(new PlannedRaid(Need(f[1]), Need(f[2]), (int)Long(f[3], number), Ids(Need(f[4])), Ids(f[5] ?? string.Empty))); break;
                case ("vg", 4): groups.Add(new PlannedVolumeGroup(Need(f[1]), Need(f[2]), Ids(Need(f[3])))); break;
                case ("lv", 7):
                    volumes.Add(new PlannedLogicalVolume(Need(f[1]), Need(f[2]), Need(f[3]), Long(f[4], number), f[5] == "1",
                        double.TryParse(f[6], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and <= 100 ? percent
                            : throw new FormatException($"install plan line {number}: '{f[6]}' is not a percentage")));
                    break;
                case ("format", 7): formats.Add(new PlannedFormat(Need(f[1]), Need(f[2]), Need(f[3]), f[4], f[5], f[6] == "1")); break;
                case ("mount", 4): mounts.Add(new PlannedMount(Need(f[1]), Need(f[2]), f[3])); break;
                default: throw new FormatException($"install plan line {number}: unknown item '{f[0]}' with {f.Length - 1} fields");
            }

            string Need(string? value) => value ?? throw new FormatException($"install plan line {number}: a field is missing");
        }

        if (version is null)
        {
            throw new FormatException("the install plan has no version line");
        }

        return new InstallPlan(version[1]!, version[2]!, version[3]!, version[4] ?? string.Empty, disks, partitions, raids, groups, volumes, formats, mounts);

        static string[] Ids(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The agent's disks as the plan request's body.</summary>
    public static string FormatDisks(string firmware, IEnumerable<DiskFacts> disks)
    {
        ArgumentNullException.ThrowIfNull(disks);
        var text = new StringBuilder(DisksHeader).Append('\n');
        Line(text, "firmware", firmware);
        foreach (var d in disks)
        {
            Line(text, "disk", d.Name, Number(d.Bytes), Flag(d.Removable), d.Serial, d.Wwn, d.ByPath, d.Model, d.Table);
            foreach (var p in d.Partitions)
            {
                Line(text, "has", d.Name, Number(p.Number), Number(p.Start), Number(p.Size), p.FsType);
            }
        }

        return text.ToString();
    }

    /// <summary>Reads <see cref="FormatDisks"/>'s text: the firmware and the disks.</summary>
    public static (string Firmware, IReadOnlyList<DiskFacts> Disks) ParseDisks(string text)
    {
        var firmware = Bios;
        var disks = new List<DiskFacts>();
        foreach (var (number, f) in Lines(text, DisksHeader))
        {
            switch (f[0], f.Length)
            {
                case ("firmware", 2): firmware = f[1] == Uefi ? Uefi : Bios; break;
                case ("disk", 9):
                    disks.Add(new DiskFacts(f[1] ?? throw new FormatException($"disks line {number}: no name"), Long(f[2], number), f[3] == "1", f[4], f[5], f[6], f[7], f[8] ?? "none", []));
                    break;
                case ("has", 6):
                    var at = disks.FindIndex(d => d.Name == f[1]);
                    if (at < 0)
                    {
                        throw new FormatException($"disks line {number}: partition of an unknown disk {f[1]}");
                    }

                    disks[at] = disks[at] with { Partitions = [.. disks[at].Partitions, new ExistingPartition((int)Long(f[2], number), Long(f[3], number), Long(f[4], number), f[5] ?? string.Empty)] };
                    break;
                default: throw new FormatException($"disks line {number}: unknown item '{f[0]}' with {f.Length - 1} fields");
            }
        }

        return (firmware, disks);
    }

    private static IEnumerable<(int Number, string?[] Fields)> Lines(string text, string header)
    {
        var lines = (text ?? string.Empty).Split('\n');
        if (lines[0].Trim() != header)
        {
            throw new FormatException($"not a '{header}' text (first line: '{lines[0][..Math.Min(lines[0].Length, 60)]}')");
        }

        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            yield return (i + 1, lines[i].Split(' ').Select(Unescape).ToArray());
        }
    }

    private static void Line(StringBuilder text, string kind, params string?[] fields)
    {
        text.Append(kind);
        foreach (var field in fields)
        {
            text.Append(' ').Append(field is null ? "-" : field.Length == 0 ? "%00" : Uri.EscapeDataString(field));
        }

        text.Append('\n');
    }

    /// <summary>"-" is null, "%00" the empty string (neither is a value a URI escape gives).</summary>
    private static string? Unescape(string field) => field switch
    {
        "-" => null,
        "%00" => string.Empty,
        _ => Uri.UnescapeDataString(field),
    };

    private static string Flag(bool value) => value ? "1" : "0";

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long Long(string? field, int line) =>
        long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"line {line}: '{field}' is not a whole number");
}
