namespace Sidus.Nodes.Layouts;

/// <summary>
/// A checked layout: every id unique, every reference to an earlier item of the right type, each volume used once,
/// flags and filesystems that agree, one root mount. <see cref="Warnings"/> lists what is allowed but likely wrong
/// (no ESP: UEFI nodes will not boot it).
/// </summary>
public sealed class Layout
{
    private static readonly Dictionary<string, int> LabelLimits = new(StringComparer.Ordinal) { ["ext4"] = 16, ["xfs"] = 12, ["vfat"] = 11, ["btrfs"] = 255, ["swap"] = 15 };

    private Layout(string source, string? description, IReadOnlyList<LayoutItem> items, IReadOnlyList<string> warnings)
    {
        Source = source;
        Description = description;
        Items = items;
        Warnings = warnings;
    }

    public string Source { get; }

    public string? Description { get; }

    public IReadOnlyList<LayoutItem> Items { get; }

    public IReadOnlyList<string> Warnings { get; }

    public IEnumerable<T> OfType<T>() where T : LayoutItem => Items.OfType<T>();

    public LayoutItem this[string id] => Items.First(i => i.Id == id);

    public static Layout Validated(string source, string? description, IReadOnlyList<LayoutItem> items)
    {
        var byId = new Dictionary<string, LayoutItem>(StringComparer.Ordinal);
        var usedBy = new Dictionary<string, LayoutItem>(StringComparer.Ordinal);
        var warnings = new List<string>();
        LayoutException Error(LayoutItem item, string message) => new($"{source}:{item.Line}: {item.Type} '{item.Id}': {message}");

        T Ref<T>(LayoutItem item, string id, string field) where T : LayoutItem =>
            byId.TryGetValue(id, out var target)
                ? target as T ?? throw Error(item, $"{field} '{id}' is a {target.Type}, not a {TypeName<T>()}")
                : throw Error(item, $"{field} '{id}' names no earlier item (items can only name items above them)");

        void Use(LayoutItem item, string id, string field, params Type[] allowed)
        {
            if (!byId.TryGetValue(id, out var target))
            {
                throw Error(item, $"{field} '{id}' names no earlier item (items can only name items above them)");
            }

            if (!allowed.Contains(target.GetType()))
            {
                throw Error(item, $"{field} '{id}' is a {target.Type}; it must be a {string.Join(" or ", allowed.Select(TypeName))}");
            }

            if (usedBy.TryGetValue(id, out var other))
            {
                throw Error(item, $"{field} '{id}' is already used by {other.Type} '{other.Id}' (line {other.Line})");
            }

            if (target is DiskItem && items.OfType<PartitionItem>().Any(p => p.Disk == id))
            {
                throw Error(item, $"{field} '{id}' is a disk with partitions: name one of its partitions");
            }

            if (item.Preserve && !target.Preserve)
            {
                throw Error(item, $"is preserved but {target.Type} '{id}' under it is not: preserve both, or neither");
            }

            usedBy[id] = item;
        }

        foreach (var item in items)
        {
            if (item.Id.Length is 0 or > 64 || !item.Id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
            {
                throw Error(item, "an id is 1 to 64 of a-z, 0-9, '-', '_', '.'");
            }

            if (byId.TryGetValue(item.Id, out var twin))
            {
                throw Error(item, $"the id is already used on line {twin.Line}");
            }

            switch (item)
            {
                case DiskItem d:
                    if (d.Match.First && items.OfType<DiskItem>().TakeWhile(x => x != d).Any(x => x.Match.First))
                    {
                        throw Error(item, "only one disk may match 'first': match the others by serial, wwn, path or size");
                    }

                    break;
                case PartitionItem p:
                    CheckPartition(p, Ref<DiskItem>(p, p.Disk, "disk"), items, Error);
                    break;
                case RaidItem r:
                    if (r.Devices.Length < RaidItem.MinimumDevices(r.Level))
                    {
                        throw Error(item, $"raid{r.Level} needs at least {RaidItem.MinimumDevices(r.Level)} devices, it has {r.Devices.Length}");
                    }

                    foreach (var d in r.Devices.Concat(r.Spares))
                    {
                        Use(r, d, "device", typeof(PartitionItem), typeof(DiskItem));
                    }

                    if (r.Level == 0 && r.Spares.Length > 0)
                    {
                        throw Error(item, "raid0 has no redundancy to rebuild: it takes no spares");
                    }

                    CheckName(r, r.Name, Error);
                    if (r.Name.Length > RaidItem.MaxName)
                    {
                        // mdadm keeps "HOST:NAME" in 32 bytes; the node's name goes in front when it fits.
                        throw Error(item, $"name '{r.Name}' is longer than an md array's name may be ({RaidItem.MaxName} characters)");
                    }

                    break;
                case VolumeGroupItem vg:
                    if (vg.Devices.Length == 0)
                    {
                        throw Error(item, "needs 'devices': the partitions, disks or raids it is made of");
                    }

                    foreach (var d in vg.Devices)
                    {
                        Use(vg, d, "device", typeof(PartitionItem), typeof(DiskItem), typeof(RaidItem));
                    }

                    CheckName(vg, vg.Name, Error);
                    if (VolumeGroupItem.Reserved.Contains(vg.Name))
                    {
                        throw Error(item, $"name '{vg.Name}' would be /dev/{vg.Name}, which the system uses: choose another");
                    }

                    break;
                case LogicalVolumeItem lv:
                    var group = Ref<VolumeGroupItem>(lv, lv.VolumeGroup, "vg");
                    if (lv.Preserve && !group.Preserve)
                    {
                        throw Error(item, $"is preserved but its volume group '{group.Id}' is not");
                    }

                    CheckName(lv, lv.Name, Error);
                    if (LogicalVolumeItem.IsReserved(lv.Name))
                    {
                        throw Error(item, $"name '{lv.Name}' is reserved by LVM for its own volumes (snapshot*, pvmove*, *_mlog, *_rimage...): choose another");
                    }

                    break;
                case FormatItem f:
                    Use(f, f.Volume, "volume", typeof(PartitionItem), typeof(DiskItem), typeof(RaidItem), typeof(LogicalVolumeItem));
                    if (f.Label is { } label && label.Length > LabelLimits[f.FsType])
                    {
                        throw Error(item, $"label '{label}' is longer than {f.FsType} allows ({LabelLimits[f.FsType]} characters)");
                    }

                    if (byId[f.Volume] is PartitionItem { Flags: var flags } part)
                    {
                        if (flags.Contains(PartitionItem.Esp) && f.FsType != "vfat")
                        {
                            throw Error(item, $"partition '{part.Id}' is the ESP: its filesystem must be vfat, not {f.FsType}");
                        }

                        if (flags.Contains(PartitionItem.BiosGrub))
                        {
                            throw Error(item, $"partition '{part.Id}' is bios_grub: GRUB writes it raw, it takes no filesystem");
                        }

                        if (flags.Contains(PartitionItem.Swap) != (f.FsType == "swap"))
                        {
                            throw Error(item, f.FsType == "swap" ? $"partition '{part.Id}' holds swap: give it the swap flag" : $"partition '{part.Id}' has the swap flag: format it as swap");
                        }
                    }

                    break;
                case MountItem mount:
                    var fs = Ref<FormatItem>(mount, mount.Device, "device");
                    if (fs.FsType == "swap")
                    {
                        throw Error(item, $"'{fs.Id}' is swap: swap is enabled from fstab without a mount item");
                    }

                    if (!mount.Path.StartsWith('/') || mount.Path.Split('/').Any(s => s is "." or "..") || (mount.Path.Length > 1 && mount.Path.EndsWith('/')))
                    {
                        throw Error(item, $"path '{mount.Path}' must be absolute and plain, like /var/lib/data");
                    }

                    if (items.OfType<MountItem>().FirstOrDefault(x => x.Path == mount.Path && x != mount) is { } same && same.Line < mount.Line)
                    {
                        throw Error(item, $"'{mount.Path}' is already mounted by '{same.Id}' (line {same.Line})");
                    }

                    if (usedBy.TryGetValue(fs.Id, out var earlier))
                    {
                        throw Error(item, $"filesystem '{fs.Id}' is already mounted by '{earlier.Id}'");
                    }

                    usedBy[fs.Id] = mount;
                    break;
            }

            byId[item.Id] = item;
        }

        if (!items.OfType<MountItem>().Any(m => m.Path == "/"))
        {
            throw new LayoutException($"{source}: no mount of '/': the image needs a root filesystem");
        }

        foreach (var disk in items.OfType<DiskItem>())
        {
            if (!usedBy.ContainsKey(disk.Id) && !items.OfType<PartitionItem>().Any(p => p.Disk == disk.Id))
            {
                throw Error(disk, "nothing uses this disk: give it partitions, or name it in a raid, lvm_vg or format");
            }
        }

        foreach (var part in items.OfType<PartitionItem>().Where(p => !usedBy.ContainsKey(p.Id) && !p.Flags.Contains(PartitionItem.BiosGrub) && !p.Preserve))
        {
            warnings.Add($"{source}:{part.Line}: partition '{part.Id}' is made but nothing uses it (no format, raid or lvm_vg names it)");
        }

        var partitions = items.OfType<PartitionItem>().ToList();
        if (!partitions.Any(p => p.Flags.Contains(PartitionItem.Esp)))
        {
            warnings.Add($"{source}: no esp partition: UEFI nodes cannot boot this layout (add a 512MiB vfat partition with flags: [esp])");
        }

        if (items.OfType<DiskItem>().Any(d => d.Table == PartitionTable.Gpt) && !partitions.Any(p => p.Flags.Contains(PartitionItem.BiosGrub)))
        {
            warnings.Add($"{source}: no bios_grub partition on GPT: BIOS nodes cannot boot this layout (add a 1MiB partition with flags: [bios_grub])");
        }

        warnings.AddRange(BootOnEveryMirrorDisk(source, items));
        return new Layout(source, description, items, warnings);
    }

    /// <summary>
    /// An array that survives a lost disk should leave each of its disks bootable: when some have the ESP (or the
    /// bios_grub partition) and others not, those others cannot boot alone.
    /// </summary>
    private static IEnumerable<string> BootOnEveryMirrorDisk(string source, IReadOnlyList<LayoutItem> items)
    {
        var partitions = items.OfType<PartitionItem>().ToList();
        foreach (var raid in items.OfType<RaidItem>().Where(r => r.Level != 0))
        {
            var disks = raid.Devices.Select(d => partitions.FirstOrDefault(p => p.Id == d)?.Disk ?? d).Distinct(StringComparer.Ordinal).ToList();
            foreach (var (flag, firmware, hint) in new[] { (PartitionItem.Esp, "UEFI", "an esp partition with a vfat format"), (PartitionItem.BiosGrub, "BIOS", "a 1MiB bios_grub partition") })
            {
                var without = disks.Where(d => !partitions.Any(p => p.Disk == d && p.Flags.Contains(flag))).ToList();
                if (without.Count > 0 && without.Count < disks.Count)
                {
                    yield return $"{source}:{raid.Line}: raid '{raid.Id}' survives a lost disk, but {string.Join(", ", without.Select(d => $"disk '{d}'"))} " +
                                 $"has no {flag} partition: under {firmware} it cannot boot alone (give it {hint} too)";
                }
            }
        }
    }

    private static void CheckPartition(PartitionItem p, DiskItem disk, IReadOnlyList<LayoutItem> items, Func<LayoutItem, string, LayoutException> error)
    {
        var siblings = items.OfType<PartitionItem>().Where(x => x.Disk == disk.Id).TakeWhile(x => x != p).ToList();
        if (disk.Preserve && !p.Preserve)
        {
            throw error(p, $"disk '{disk.Id}' is preserved (its partition table is kept): preserve this partition too, or the disk not");
        }

        if (disk.Table == PartitionTable.Msdos && siblings.Count >= 4)
        {
            throw error(p, $"disk '{disk.Id}' has an msdos table, which holds 4 partitions: use table: gpt");
        }

        if (p.Size.Rest && siblings.Any(s => s.Size.Rest))
        {
            throw error(p, $"disk '{disk.Id}' already has a partition of size 'rest'");
        }

        if (siblings.Sum(s => s.Size.Percent) + p.Size.Percent > 100)
        {
            throw error(p, $"the shares of disk '{disk.Id}' add up to more than 100%");
        }

        foreach (var flag in new[] { PartitionItem.Esp, PartitionItem.BiosGrub })
        {
            if (p.Flags.Contains(flag) && siblings.Any(s => s.Flags.Contains(flag)))
            {
                throw error(p, $"disk '{disk.Id}' already has a {flag} partition");
            }
        }

        if (p.Flags.Contains(PartitionItem.BiosGrub) && disk.Table != PartitionTable.Gpt)
        {
            throw error(p, "bios_grub is for GPT disks: on msdos GRUB uses the gap after the MBR");
        }

        if (p.Flags.Contains(PartitionItem.Esp) && p.Size.IsFixed && p.Size.Bytes < 32 * ByteSize.MiB)
        {
            throw error(p, "an ESP under 32 MiB cannot hold a FAT32 filesystem: give it 512MiB");
        }
    }

    private static void CheckName(LayoutItem item, string name, Func<LayoutItem, string, LayoutException> error)
    {
        if (name.Length is 0 or > 64 || name[0] == '-' || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '+'))
        {
            throw error(item, $"name '{name}' must be 1 to 64 of A-Z, a-z, 0-9, '_', '.', '-', '+', not starting with '-'");
        }
    }

    private static string TypeName<T>() => TypeName(typeof(T));

    private static string TypeName(Type t) => t.Name switch
    {
        nameof(DiskItem) => "disk",
        nameof(PartitionItem) => "partition",
        nameof(RaidItem) => "raid",
        nameof(VolumeGroupItem) => "lvm_vg",
        nameof(LogicalVolumeItem) => "lvm_lv",
        nameof(FormatItem) => "format",
        _ => "mount",
    };
}
