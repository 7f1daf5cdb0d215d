namespace Sidus.Nodes.Layouts;

/// <summary>
/// One volume of a plan: where it lies (partitions: start and size on their disk, 1 MiB aligned) and what it holds.
/// <see cref="Parent"/> is the disk of a partition, the volume group of a logical volume, the volume of a format.
/// </summary>
public sealed record PlannedVolume(string Id, string Type, string? Parent, int? Number, long? Start, long Size, bool Preserve, string? Detail);

/// <summary>
/// A layout laid out on disks of known sizes. Sizes are exact for partitions (GPT keeps its first and last MiB, an
/// msdos table its first), and close for what sits on them: an md array's own space (<see cref="RaidOverhead"/>),
/// a physical volume's metadata (1 MiB) and LVM's 4 MiB extents are taken off.
/// </summary>
public sealed class LayoutPlan
{
    public const long Alignment = ByteSize.MiB;
    public const long ExtentBytes = 4 * ByteSize.MiB;
    public const long MetadataBytes = ByteSize.MiB;

    /// <summary>An msdos table counts sectors in 32 bits: nothing may end beyond 2 TiB.</summary>
    public const long MsdosLimit = (1L << 32) * 512;

    private LayoutPlan(IReadOnlyList<PlannedVolume> volumes) => Volumes = volumes;

    public IReadOnlyList<PlannedVolume> Volumes { get; }

    /// <summary>Plans <paramref name="layout"/> with each disk's size (by disk id).</summary>
    public static LayoutPlan Make(Layout layout, IReadOnlyDictionary<string, long> diskBytes)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(diskBytes);
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var volumes = new List<PlannedVolume>();
        LayoutException Error(LayoutItem item, string message) => new($"{layout.Source}:{item.Line}: {item.Type} '{item.Id}': {message}");
        foreach (var item in layout.Items)
        {
            switch (item)
            {
                case DiskItem d:
                    if (!diskBytes.TryGetValue(d.Id, out var bytes))
                    {
                        throw Error(d, "no size given for this disk (--disk-size ID=SIZE)");
                    }

                    if (d.Match.MinBytes > bytes || d.Match.MaxBytes < bytes)
                    {
                        throw Error(d, $"a disk of {ByteSize.Format(bytes)} does not match {d.Match}");
                    }

                    sizes[d.Id] = bytes;
                    volumes.Add(new PlannedVolume(d.Id, d.Type, null, null, null, bytes, d.Preserve, $"{d.Table.ToString().ToLowerInvariant()}, {d.Match}"));
                    volumes.AddRange(Partitions(layout, d, bytes, Error, sizes));
                    break;
                case RaidItem r:
                    var smallest = r.Devices.Min(id => sizes[id]);
                    var member = (smallest - RaidOverhead(smallest)) / Alignment * Alignment;
                    var n = r.Devices.Length;
                    var raid = r.Level switch { 0 => n * member, 1 => member, 5 => (n - 1) * member, 6 => (n - 2) * member, _ => n * member / 2 };
                    sizes[r.Id] = raid;
                    volumes.Add(new PlannedVolume(r.Id, r.Type, null, null, null, raid, r.Preserve,
                        $"raid{r.Level} /dev/md/{r.Name} of {string.Join(", ", r.Devices)}" + (r.Spares.Length > 0 ? $", spares {string.Join(", ", r.Spares)}" : string.Empty)));
                    break;
                case VolumeGroupItem vg:
                    var total = vg.Devices.Sum(id => (sizes[id] - MetadataBytes) / ExtentBytes * ExtentBytes);
                    sizes[vg.Id] = total;
                    volumes.Add(new PlannedVolume(vg.Id, vg.Type, null, null, null, total, vg.Preserve, $"volume group {vg.Name} of {string.Join(", ", vg.Devices)}"));
                    volumes.AddRange(LogicalVolumes(layout, vg, total, Error, sizes));
                    break;
                case FormatItem f:
                    volumes.Add(new PlannedVolume(f.Id, f.Type, f.Volume, null, null, sizes[f.Volume], f.Preserve,
                        f.FsType + (f.Label is null ? string.Empty : $" label {f.Label}") + (f.Options is null ? string.Empty : $" ({f.Options})")));
                    sizes[f.Id] = sizes[f.Volume];
                    break;
                case MountItem m:
                    volumes.Add(new PlannedVolume(m.Id, m.Type, m.Device, null, null, sizes[m.Device], false, m.Path + (m.Options is null ? string.Empty : $" ({m.Options})")));
                    break;
            }
        }

        return new LayoutPlan(volumes);
    }

    private static List<PlannedVolume> Partitions(Layout layout, DiskItem disk, long bytes, Func<LayoutItem, string, LayoutException> error, Dictionary<string, long> sizes)
    {
        var parts = layout.OfType<PartitionItem>().Where(p => p.Disk == disk.Id).ToList();
        var first = Alignment;
        var end = disk.Table == PartitionTable.Gpt ? (bytes - Alignment) / Alignment * Alignment : bytes / Alignment * Alignment;
        if (disk.Table == PartitionTable.Msdos)
        {
            end = Math.Min(end, MsdosLimit / Alignment * Alignment);
        }

        var usable = Math.Max(0, end - first);
        long Fixed(PartitionItem p) => p.Size.IsFixed ? RoundUp(p.Size.Bytes) : p.Size.Percent > 0 ? (long)(usable * p.Size.Percent / 100) / Alignment * Alignment : 0;
        var taken = parts.Sum(Fixed);
        if (taken > usable)
        {
            throw error(disk, $"its partitions need {ByteSize.Format(taken)}, a disk of {ByteSize.Format(bytes)} has {ByteSize.Format(usable)} for them");
        }

        var planned = new List<PlannedVolume>();
        var at = first;
        var number = 0;
        foreach (var p in parts)
        {
            var size = p.Size.Rest ? usable - taken : Fixed(p);
            if (size < Alignment)
            {
                throw error(p, $"is left {ByteSize.Format(size)} on disk '{disk.Id}' ({ByteSize.Format(bytes)}): nothing fits");
            }

            number++;
            sizes[p.Id] = size;
            var flags = p.Flags.Length == 0 ? string.Empty : "flags " + string.Join(",", p.Flags);
            planned.Add(new PlannedVolume(p.Id, p.Type, disk.Id, number, at, size, p.Preserve, flags.Length == 0 ? null : flags));
            at += size;
        }

        return planned;
    }

    private static List<PlannedVolume> LogicalVolumes(Layout layout, VolumeGroupItem vg, long total, Func<LayoutItem, string, LayoutException> error, Dictionary<string, long> sizes)
    {
        var lvs = layout.OfType<LogicalVolumeItem>().Where(l => l.VolumeGroup == vg.Id).ToList();
        long Fixed(LogicalVolumeItem l) => l.Size.IsFixed ? (l.Size.Bytes + ExtentBytes - 1) / ExtentBytes * ExtentBytes : l.Size.Percent > 0 ? (long)(total * l.Size.Percent / 100) / ExtentBytes * ExtentBytes : 0;
        var taken = lvs.Sum(Fixed);
        if (taken > total)
        {
            throw error(vg, $"its logical volumes need {ByteSize.Format(taken)}, the group has {ByteSize.Format(total)}");
        }

        if (lvs.Count(l => l.Size.Rest) > 1)
        {
            throw error(lvs.Where(l => l.Size.Rest).Skip(1).First(), $"volume group '{vg.Id}' already has a logical volume of size 'rest'");
        }

        return [.. lvs.Select(l =>
        {
            var size = l.Size.Rest ? total - taken : Fixed(l);
            if (size < ExtentBytes)
            {
                throw error(l, $"is left {ByteSize.Format(size)} in volume group '{vg.Id}': nothing fits");
            }

            sizes[l.Id] = size;
            return new PlannedVolume(l.Id, l.Type, vg.Id, null, null, size, l.Preserve, $"/dev/{vg.Name}/{l.Name}");
        })];
    }

    /// <summary>
    /// What mdadm's 1.2 superblock keeps before a member's data (its data offset): a headroom of 128 MiB, halved while
    /// it is more than a 1024th of the member (down to 1 MiB), and a MiB more for the superblock and its bitmap.
    /// </summary>
    public static long RaidOverhead(long member)
    {
        var headroom = 128 * ByteSize.MiB;
        while (headroom > ByteSize.MiB && headroom * 1024 > member)
        {
            headroom /= 2;
        }

        return headroom + MetadataBytes;
    }

    private static long RoundUp(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}
