using Sidus.Agent.Modules;

namespace Sidus.Agent.Install;

/// <summary>
/// The layout's md arrays and LVM (docs/installed-nodes.md, "RAID and LVM"), made with the image's own mdadm and
/// lvm once the partitions exist: arrays first (metadata 1.2, homehost the node's name, so that its own system sees
/// them as its own), then volume groups on partitions, disks or arrays, then their logical volumes, fixed sizes
/// before the one that takes the rest. No udev runs here: each device is found by its kernel name (/dev/mdN, and
/// /dev/dm-N by the name in sysfs), which devtmpfs makes whatever the tools do with /dev/md and /dev/mapper.
/// </summary>
internal static class VolumeBuilder
{
    /// <summary>The arrays get md127, md126, ...: the numbers an assembly picks for named arrays, free in the initramfs.</summary>
    private const int FirstArray = 127;

    private static readonly string[] RaidModules = ["md_mod", "linear", "raid0", "raid1", "raid10", "raid456"];

    /// <summary>LVM makes its device nodes itself and lists devices from /dev: it would wait for udev otherwise.</summary>
    private static readonly string[] NoUdev =
        ["--config", "activation { udev_sync = 0 udev_rules = 0 } devices { obtain_device_list_from_udev = 0 }"];

    /// <summary>Makes the plan's arrays, groups and logical volumes, adding each one's device to DEVICES.</summary>
    public static void Build(ToolRoot tools, InstallPlan plan, Dictionary<string, string> devices, ModuleLoader fromImage, string? hostname)
    {
        if (plan.Raids.Count > 0)
        {
            foreach (var module in RaidModules)
            {
                fromImage.LoadByName(module);
            }
        }

        for (var i = 0; i < plan.Raids.Count; i++)
        {
            var raid = plan.Raids[i];
            var device = $"/dev/md{FirstArray - i}";
            List<string> args =
            [
                "--create", device, "--run", "--metadata=1.2", $"--level={raid.Level}", $"--raid-devices={raid.Devices.Count}", $"--name={raid.Name}",
            ];
            // mdadm keeps "HOST:NAME" in 32 bytes: the node's name when it fits, else none (never the installer's).
            args.Add("--homehost=" + (hostname is not null && hostname.Length + 1 + raid.Name.Length <= 32 ? hostname : "<none>"));

            if (raid.Spares.Count > 0)
            {
                args.Add($"--spare-devices={raid.Spares.Count}");
            }

            args.AddRange(raid.Devices.Concat(raid.Spares).Select(id => devices[id]));
            AgentConsole.Say($"{device}: making raid{raid.Level} '{raid.Name}' of {string.Join(", ", raid.Devices.Concat(raid.Spares).Select(id => devices[id]))}");
            tools.Must("mdadm", args, "mdadm");
            devices[raid.Id] = device;
        }

        if (plan.Groups.Count > 0)
        {
            fromImage.LoadByName("dm_mod");
        }

        foreach (var group in plan.Groups)
        {
            var members = group.Devices.Select(id => devices[id]).ToList();
            AgentConsole.Say($"LVM: volume group '{group.Name}' on {string.Join(", ", members)}");
            tools.Must("lvm", ["pvcreate", .. NoUdev, "--force", "--force", "--yes", .. members], "lvm2");
            tools.Must("lvm", ["vgcreate", .. NoUdev, "--yes", group.Name, .. members], "lvm2");
            // Fixed sizes first, then shares of the group (LVM knows its true size), the one that takes the rest last.
            foreach (var volume in plan.LogicalVolumes.Where(l => l.Group == group.Id).OrderBy(l => l.Rest ? 2 : l.Percent > 0 ? 1 : 0))
            {
                List<string> size = volume.Rest ? ["--extents", "100%FREE"] :
                    volume.Percent > 0 ? ["--extents", volume.Percent.ToString("0.###", CultureInfo.InvariantCulture) + "%VG"] :
                    ["--size", (volume.Size / 1048576).ToString(CultureInfo.InvariantCulture) + "m"];
                tools.Must("lvm", ["lvcreate", .. NoUdev, "--yes", "--wipesignatures", "y", "--zero", "y", "--name", volume.Name, .. size, group.Name], "lvm2");
                devices[volume.Id] = MapperDevice(group.Name, volume.Name);
                AgentConsole.Say($"{devices[volume.Id]}: logical volume {group.Name}/{volume.Name}" + (volume.Rest ? " (the rest of the group)" : volume.Percent > 0 ? $" ({volume.Percent}% of the group)" : $" ({volume.Size / 1048576} MiB)"));
            }
        }
    }

    /// <summary>
    /// Refuses, before any disk is touched, a volume group name that LVM already sees on a device the install keeps
    /// (another disk, a preserved partition): vgcreate would fail only after the disks were wiped, and the node would
    /// boot with two groups of one name. Groups on what the install wipes are no obstacle.
    /// </summary>
    public static void CheckNamesFree(ToolRoot tools, InstallPlan plan)
    {
        if (plan.Groups.Count == 0)
        {
            return;
        }

        var listed = tools.Run("lvm", ["pvs", .. NoUdev, "--noheadings", "--separator", "|", "--options", "vg_name,pv_name"], "lvm2");
        if (listed.ExitCode != 0)
        {
            AgentConsole.Fail($"LVM could not list the volume groups already on the disks ({listed.Errors.Trim()}); going on without that check");
            return;
        }

        var existing = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('|')).Where(f => f.Length == 2 && f[0].Length > 0).Select(f => (Group: f[0], Device: f[1])).ToList();
        var clashes = NameClashes(plan, existing, name => DiskScan.PartitionOf(name));
        if (clashes.Count > 0)
        {
            throw new InstallException("the layout's volume group names are taken on devices this install keeps: " + string.Join("; ", clashes) +
                ". Nothing was written to any disk. Rename the layout's group, or wipe that device (wipefs --all) if it is no longer wanted.");
        }
    }

    /// <summary>Each planned group name found on a device (as /dev/NAME) that the plan does not wipe: PARTITIONOF gives a partition's disk and number.</summary>
    internal static List<string> NameClashes(InstallPlan plan, IEnumerable<(string Group, string Device)> existing, Func<string, (string Disk, int Number)?> partitionOf)
    {
        var wiped = plan.Disks.Where(d => !d.Preserve).ToDictionary(d => d.Device, d => d.Id, StringComparer.Ordinal);
        bool Kept(string device)
        {
            var name = device.StartsWith("/dev/", StringComparison.Ordinal) ? device[5..] : device;
            if (wiped.ContainsKey(name))
            {
                return false;
            }

            // A partition of a disk the install rewrites goes, unless the plan keeps that very partition.
            return partitionOf(name) is not { } part || !wiped.TryGetValue(part.Disk, out var disk) ||
                plan.Partitions.Any(p => p.Disk == disk && p.Number == part.Number && p.Preserve);
        }

        var names = plan.Groups.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        return [.. existing.Where(e => names.Contains(e.Group) && Kept(e.Device)).Select(e => $"'{e.Group}' on {e.Device}").Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Deactivates the groups and stops the arrays once the install is written, so the node's first boot finds them
    /// clean. Best effort: an install that failed halfway may not have made them.
    /// </summary>
    public static void Stop(ToolRoot tools, InstallPlan plan)
    {
        foreach (var group in plan.Groups)
        {
            Quietly(tools, "lvm", ["vgchange", .. NoUdev, "--activate", "n", group.Name], "lvm2");
        }

        for (var i = 0; i < plan.Raids.Count; i++)
        {
            Quietly(tools, "mdadm", ["--stop", $"/dev/md{FirstArray - i}"], "mdadm");
        }
    }

    /// <summary>
    /// The installed system's /etc/mdadm/mdadm.conf: its arrays by UUID, so that an initramfs the node makes itself
    /// (a kernel it installs) assembles them by name. Updates leave the file alone (<see cref="UpdateExcludes"/>).
    /// </summary>
    public static string MdadmConf(ToolRoot tools, InstallPlan plan) =>
        $"# written by Sidus at install ({plan.ImageRef}): this node's md arrays, from mdadm --detail --scan\n" +
        "HOMEHOST <system>\nMAILADDR root\n" + tools.Must("mdadm", ["--detail", "--scan"], "mdadm");

    /// <summary>
    /// LVM wrote its metadata backups (/etc/lvm/backup, /etc/lvm/archive) in the root the tools ran in: the installed
    /// system gets them, as if it had made its groups itself (updates leave them alone).
    /// </summary>
    public static void CopyLvmBackups(string toolsRoot, string target, InstallPlan plan)
    {
        foreach (var kind in plan.Groups.Count > 0 ? new[] { "backup", "archive" } : [])
        {
            var from = $"{toolsRoot}/etc/lvm/{kind}";
            if (!Directory.Exists(from))
            {
                continue;
            }

            Directory.CreateDirectory($"{target}/etc/lvm/{kind}");
            foreach (var file in Directory.GetFiles(from))
            {
                File.Copy(file, $"{target}/etc/lvm/{kind}/{Path.GetFileName(file)}", overwrite: true);
            }
        }
    }

    /// <summary>/dev/dm-N of GROUP/VOLUME, found by its device-mapper name (dashes doubled) in sysfs.</summary>
    private static string MapperDevice(string group, string volume)
    {
        var name = group.Replace("-", "--", StringComparison.Ordinal) + "-" + volume.Replace("-", "--", StringComparison.Ordinal);
        foreach (var block in Directory.Exists("/sys/block") ? Directory.GetDirectories("/sys/block", "dm-*") : [])
        {
            var file = Path.Combine(block, "dm", "name");
            if (File.Exists(file) && File.ReadAllText(file).Trim() == name)
            {
                return "/dev/" + Path.GetFileName(block);
            }
        }

        throw new InstallException($"logical volume {group}/{volume} was made, but no device-mapper device named {name} is in /sys/block");
    }

    private static void Quietly(ToolRoot tools, string tool, IReadOnlyList<string> args, string package)
    {
        try
        {
            var result = tools.Run(tool, args, package);
            if (result.ExitCode != 0)
            {
                AgentConsole.Fail($"{tool} {string.Join(' ', args)}: {(result.Errors + result.Output).Trim()}");
            }
        }
        catch (InstallException e)
        {
            AgentConsole.Fail(e.Message);
        }
    }
}
