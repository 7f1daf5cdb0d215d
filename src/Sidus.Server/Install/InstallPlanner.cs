using Sidus.Nodes.Layouts;

namespace Sidus.Server.Install;

/// <summary>Why a layout cannot be installed on the disks a node has: said to the agent (409) and in its events.</summary>
public sealed class InstallPlanException(string message) : Exception(message);

/// <summary>
/// Lays a node's layout onto the disks its agent found (docs/installed-nodes.md): each layout disk is matched to one
/// found disk (serial, WWN, stable path, size range or "the first non-removable one", never a /dev name the layout
/// made up), planned with <see cref="LayoutPlan"/> (the same offsets `sidus layout check` prints), and checked
/// against what is preserved: a preserved partition must be on the disk with the same number, start and size, a
/// preserved filesystem must be there with its type. The firmware decides the bootloader's needs: UEFI an ESP
/// mounted at /boot/efi, BIOS on GPT a bios_grub partition. Everything is refused before the agent touches a disk.
/// </summary>
public static class InstallPlanner
{
    public static InstallPlan Plan(Layout layout, string layoutName, string firmware, IReadOnlyList<DiskFacts> found, string version, string imageRef, string kernelArgs,
        VersionFootprint? footprint = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(found);
        if (layout.Items.FirstOrDefault(i => i is RaidItem or VolumeGroupItem or LogicalVolumeItem && i.Preserve) is { } kept)
        {
            throw new InstallPlanException(
                $"layout {layoutName}: {kept.Type} '{kept.Id}' (line {kept.Line}) is preserved: the install makes md arrays and LVM but does not keep them yet; " +
                "keep data on a preserved partition instead");
        }

        var matched = MatchDisks(layout, layoutName, found);
        LayoutPlan planned;
        try
        {
            planned = LayoutPlan.Make(layout, matched.ToDictionary(m => m.Key, m => m.Value.Bytes, StringComparer.Ordinal));
        }
        catch (LayoutException e)
        {
            throw new InstallPlanException($"layout {layoutName} does not fit this node's disks: {e.Message}");
        }

        var disks = layout.OfType<DiskItem>()
            .Select(d => new PlannedDisk(d.Id, matched[d.Id].Name, d.Table == PartitionTable.Gpt ? InstallPlan.Gpt : InstallPlan.Msdos, d.Preserve)).ToList();
        var partitions = new List<PlannedPartition>();
        foreach (var volume in planned.Volumes.Where(v => v.Type == "partition"))
        {
            var item = (PartitionItem)layout[volume.Id];
            var disk = (DiskItem)layout[item.Disk];
            partitions.Add(new PlannedPartition(volume.Id, disk.Id, volume.Number!.Value, volume.Start!.Value, volume.Size, Role(item), item.Preserve || disk.Preserve));
        }

        var raids = layout.OfType<RaidItem>().Select(r => new PlannedRaid(r.Id, r.Name, r.Level, r.Devices, r.Spares)).ToList();
        var groups = layout.OfType<VolumeGroupItem>().Select(g => new PlannedVolumeGroup(g.Id, g.Name, g.Devices)).ToList();
        var volumes = layout.OfType<LogicalVolumeItem>()
            .Select(l => new PlannedLogicalVolume(l.Id, l.Name, l.VolumeGroup, planned.Volumes.First(v => v.Id == l.Id).Size, l.Size.Rest, l.Size.Percent)).ToList();
        var members = raids.SelectMany(r => r.Devices.Concat(r.Spares)).Concat(groups.SelectMany(g => g.Devices)).ToHashSet(StringComparer.Ordinal);
        if (partitions.Select(p => (p.Id, p.Preserve)).Concat(disks.Select(d => (d.Id, d.Preserve))).FirstOrDefault(v => v.Preserve && members.Contains(v.Id)) is { Id: { } under })
        {
            throw new InstallPlanException($"layout {layoutName}: '{under}' is preserved, but an md array or volume group is made on it: nothing was touched");
        }

        var formats = layout.OfType<FormatItem>().Select(f => new PlannedFormat(f.Id, f.Volume, f.FsType, f.Label, f.Options, f.Preserve)).ToList();
        var mounts = layout.OfType<MountItem>().Select(m => new PlannedMount(m.Device, m.Path, m.Options)).ToList();
        CheckPreserved(layoutName, disks, partitions, formats, matched);
        CheckBootable(layoutName, firmware, disks, partitions, formats, mounts);
        if (footprint is not null)
        {
            FilesystemRoom.Check(layoutName, imageRef, FilesystemRoom.Measure(layout, planned, footprint));
        }

        return new InstallPlan(version, imageRef, firmware, kernelArgs, disks, partitions, raids, groups, volumes, formats, mounts);
    }

    private static Dictionary<string, DiskFacts> MatchDisks(Layout layout, string layoutName, IReadOnlyList<DiskFacts> found)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var matched = new Dictionary<string, DiskFacts>(StringComparer.Ordinal);
        foreach (var disk in layout.OfType<DiskItem>())
        {
            var m = disk.Match;
            var candidates = found.Where(f => !taken.Contains(f.Name) && Matches(m, f)).ToList();
            if (m.First)
            {
                candidates = [.. candidates.Where(f => !f.Removable).Take(1)];
            }

            if (candidates.Count == 0)
            {
                var seen = found.Count == 0 ? "none" : string.Join("; ", found.Select(Describe));
                throw new InstallPlanException($"layout {layoutName}: disk '{disk.Id}' (line {disk.Line}) wants {m}, and no disk of this node matches (found: {seen})");
            }

            if (candidates.Count > 1)
            {
                throw new InstallPlanException(
                    $"layout {layoutName}: disk '{disk.Id}' (line {disk.Line}) wants {m}, which {candidates.Count} disks match ({string.Join("; ", candidates.Select(Describe))}): match by serial, wwn or path");
            }

            taken.Add(candidates[0].Name);
            matched[disk.Id] = candidates[0];
        }

        return matched;
    }

    private static bool Matches(DiskMatch m, DiskFacts f)
    {
        if (m.Serial is { } serial && !string.Equals(serial, f.Serial, StringComparison.Ordinal))
        {
            return false;
        }

        if (m.Wwn is { } wwn && !string.Equals(Bare(wwn), f.Wwn is null ? null : Bare(f.Wwn), StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (m.Path is { } path && !PathNames(f).Contains(path, StringComparer.Ordinal))
        {
            return false;
        }

        return (m.MinBytes is not { } min || f.Bytes >= min) && (m.MaxBytes is not { } max || f.Bytes <= max);

        static string Bare(string wwn) => wwn.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? wwn[2..] : wwn;
    }

    /// <summary>The /dev/disk names udev would give F (the agent runs no udev: these come from what sysfs says).</summary>
    public static IEnumerable<string> PathNames(DiskFacts f)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (f.ByPath is { } byPath)
        {
            yield return "/dev/disk/by-path/" + byPath;
        }

        if (f.Wwn is { } wwn)
        {
            yield return "/dev/disk/by-id/wwn-" + (wwn.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? wwn : "0x" + wwn);
        }

        if (f.Serial is { } serial)
        {
            yield return "/dev/disk/by-id/virtio-" + serial;
            if (f.Model is { } model)
            {
                var prefix = f.Name.StartsWith("nvme", StringComparison.Ordinal) ? "nvme-" : "ata-";
                yield return $"/dev/disk/by-id/{prefix}{model.Replace(' ', '_')}_{serial}";
            }
        }

        yield return "/dev/" + f.Name;
    }

    private static string Describe(DiskFacts f) =>
        $"{f.Name} {ByteSize.Format(f.Bytes)}" + (f.Serial is null ? string.Empty : $" serial {f.Serial}") + (f.Removable ? " removable" : string.Empty) +
        (f.ByPath is null ? string.Empty : $" path {f.ByPath}");

    private static string Role(PartitionItem p) =>
        p.Flags.Contains(PartitionItem.Esp) ? InstallPlan.Roles.Esp :
        p.Flags.Contains(PartitionItem.BiosGrub) ? InstallPlan.Roles.BiosGrub :
        p.Flags.Contains(PartitionItem.Swap) ? InstallPlan.Roles.Swap :
        p.Flags.Contains(PartitionItem.Raid) ? InstallPlan.Roles.Raid :
        p.Flags.Contains(PartitionItem.Lvm) ? InstallPlan.Roles.Lvm :
        InstallPlan.Roles.Linux;

    private static void CheckPreserved(string layoutName, List<PlannedDisk> disks, List<PlannedPartition> partitions, List<PlannedFormat> formats,
        Dictionary<string, DiskFacts> matched)
    {
        foreach (var p in partitions.Where(p => p.Preserve))
        {
            var facts = matched[p.Disk];
            var there = facts.Partitions.FirstOrDefault(e => e.Number == p.Number);
            if (there is null || there.Start != p.Start || there.Size != p.Size)
            {
                var now = there is null ? $"{facts.Name} has no partition {p.Number}" :
                    $"partition {p.Number} of {facts.Name} starts at {there.Start} and holds {there.Size} bytes";
                throw new InstallPlanException(
                    $"layout {layoutName}: partition '{p.Id}' is preserved at number {p.Number}, start {p.Start}, {p.Size} bytes, but {now}: " +
                    "nothing was touched; fix the layout to match the disk, or drop 'preserve' to wipe it");
            }

            if (formats.FirstOrDefault(f => f.Volume == p.Id) is { } format && (format.Preserve || p.Preserve) && format.FsType != there.FsType &&
                !(format.FsType == "swap" && there.FsType == "swap"))
            {
                if (format.Preserve)
                {
                    throw new InstallPlanException(
                        $"layout {layoutName}: filesystem '{format.Id}' is preserved as {format.FsType}, but partition {p.Number} of {facts.Name} holds " +
                        $"{(there.FsType.Length == 0 ? "no filesystem" : there.FsType)}: nothing was touched");
                }
            }
        }

        foreach (var d in disks.Where(d => d.Preserve))
        {
            if (matched[d.Id].Table != d.Table)
            {
                throw new InstallPlanException($"layout {layoutName}: disk '{d.Id}' is preserved with a {d.Table} table, but {matched[d.Id].Name} holds {matched[d.Id].Table}: nothing was touched");
            }
        }

        foreach (var f in formats.Where(f => f.Preserve && partitions.All(p => p.Id != f.Volume)))
        {
            throw new InstallPlanException($"layout {layoutName}: filesystem '{f.Id}' is preserved on '{f.Volume}', which is not a partition: the install preserves filesystems on partitions only");
        }

        foreach (var f in formats.Where(f => f.Preserve))
        {
            if (partitions.First(p => p.Id == f.Volume) is { Preserve: false } p)
            {
                throw new InstallPlanException($"layout {layoutName}: filesystem '{f.Id}' is preserved but its partition '{p.Id}' is not: preserve the partition too");
            }
        }
    }

    private static void CheckBootable(string layoutName, string firmware, List<PlannedDisk> disks, List<PlannedPartition> partitions, List<PlannedFormat> formats,
        List<PlannedMount> mounts)
    {
        if (!mounts.Any(m => m.Path == "/"))
        {
            throw new InstallPlanException($"layout {layoutName} mounts nothing at /: the image needs a root filesystem");
        }

        if (mounts.FirstOrDefault(m => m.Path == "/") is { } root && formats.First(f => f.Id == root.Format) is { FsType: "vfat" or "swap" } bad)
        {
            throw new InstallPlanException($"layout {layoutName}: the root filesystem '{bad.Id}' is {bad.FsType}: use ext4, xfs or btrfs");
        }

        if (firmware == InstallPlan.Uefi)
        {
            // One ESP (of a mirror's several, say) at /boot/efi: the system's own GRUB updates go there.
            var esps = partitions.Where(p => p.Role == InstallPlan.Roles.Esp).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            var espFormats = formats.Where(f => esps.Contains(f.Volume) && f.FsType == "vfat").Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
            if (!mounts.Any(m => espFormats.Contains(m.Format) && m.Path == "/boot/efi"))
            {
                throw new InstallPlanException(
                    $"layout {layoutName}: this node starts by UEFI and needs an EFI system partition (flags: [esp]) formatted vfat and mounted at /boot/efi");
            }
        }
        else
        {
            var bootDisk = disks.FirstOrDefault(d => partitions.Any(p => p.Disk == d.Id)) ?? disks.FirstOrDefault();
            if (bootDisk is { Table: InstallPlan.Gpt } && !partitions.Any(p => p.Disk == bootDisk.Id && p.Role == InstallPlan.Roles.BiosGrub))
            {
                throw new InstallPlanException(
                    $"layout {layoutName}: this node starts by BIOS, and GRUB on a GPT disk needs a bios_grub partition (1MiB, flags: [bios_grub]) on disk '{bootDisk.Id}'");
            }

            // Where the agent puts GRUB (Installer.BiosDisks): never on what is preserved.
            var kept = disks.Where(d => d.Preserve).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
            if (!partitions.Any(p => !p.Preserve && !kept.Contains(p.Disk) && (p.Role == InstallPlan.Roles.BiosGrub || disks.First(d => d.Id == p.Disk).Table == InstallPlan.Msdos)))
            {
                throw new InstallPlanException(
                    $"layout {layoutName}: this node starts by BIOS, and GRUB needs a bios_grub partition on a GPT disk, or a partitioned msdos disk, that the install may write: " +
                    "a disk used whole (by an array or a volume group) or preserved cannot hold it");
            }
        }
    }
}
