using Sidus.Nodes.Layouts;
using Sidus.Server.Install;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests.Install;

/// <summary>The server's half of an install: a layout laid onto the disks an agent reports, refusals before any write.</summary>
public sealed class InstallPlannerTests
{
    private const string Version = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const long GiB = 1L << 30;
    private const long MiB = 1L << 20;

    private static DiskFacts Disk(string name, long bytes, string? serial = null, bool removable = false, string table = "none", params ExistingPartition[] parts) =>
        new(name, bytes, removable, serial, null, "pci-0000:00:0" + name[^1] + ".0", null, table, parts);

    private static InstallPlan Plan(string yaml, string firmware, params DiskFacts[] disks) =>
        InstallPlanner.Plan(LayoutYaml.Parse(yaml, "test.yaml"), "test", firmware, disks, Version, "demo@1", "console=ttyS0");

    private const string Preserving = """
        version: 1
        items:
          - { id: d, type: disk, match: { serial: DATA1 } }
          - { id: bios, type: partition, disk: d, size: 1MiB, flags: [bios_grub] }
          - { id: rootp, type: partition, disk: d, size: 2GiB }
          - { id: keep, type: partition, disk: d, size: rest, preserve: true }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: keep-fs, type: format, volume: keep, fstype: ext4, preserve: true }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: data, type: mount, device: keep-fs, path: /data }
        """;

    [Fact]
    public void DefaultLayout_OnTheFirstNonRemovableDisk_BootsBothFirmwares()
    {
        var plan = InstallPlanner.Plan(DefaultLayout.Parse(), DefaultLayout.Name, InstallPlan.Bios, [Disk("sda", 8 * GiB, removable: true), Disk("vdb", 10 * GiB)], Version, "demo@1", "");
        Assert.Equal("vdb", Assert.Single(plan.Disks).Device);
        Assert.Equal([InstallPlan.Roles.BiosGrub, InstallPlan.Roles.Esp, InstallPlan.Roles.Linux], plan.Partitions.Select(p => p.Role));
        Assert.Equal(MiB, plan.Partitions[0].Start);
        Assert.Equal(10 * GiB - MiB, plan.Partitions[^1].Start + plan.Partitions[^1].Size);
        Assert.Contains(plan.Mounts, m => m.Path == "/boot/efi");
        Assert.Equal(InstallPlan.Uefi, InstallPlanner.Plan(DefaultLayout.Parse(), DefaultLayout.Name, InstallPlan.Uefi, [Disk("vda", 10 * GiB)], Version, "demo@1", "").Firmware);
    }

    [Fact]
    public void Preserved_PartitionWhereTheDiskHasIt_IsKept()
    {
        var keep = new ExistingPartition(3, 2 * GiB + 2 * MiB, 8 * GiB - 2 * GiB - 3 * MiB, "ext4");
        var plan = Plan(Preserving, InstallPlan.Bios, Disk("vda", 8 * GiB), Disk("vdb", 8 * GiB, "DATA1", table: "gpt", parts: keep));
        var kept = plan.Partitions.Single(p => p.Id == "keep");
        Assert.True(kept.Preserve);
        Assert.Equal((keep.Start, keep.Size), (kept.Start, kept.Size));
        Assert.Equal("vdb", plan.Disks[0].Device);
    }

    [Fact]
    public void Preserved_PartitionMissingOrMoved_RefusedSayingNothingWasTouched()
    {
        var missing = Assert.Throws<InstallPlanException>(() => Plan(Preserving, InstallPlan.Bios, Disk("vdb", 8 * GiB, "DATA1")));
        Assert.Contains("vdb has no partition 3", missing.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was touched", missing.Message, StringComparison.Ordinal);
        var moved = Assert.Throws<InstallPlanException>(() => Plan(Preserving, InstallPlan.Bios,
            Disk("vdb", 8 * GiB, "DATA1", table: "gpt", parts: new ExistingPartition(3, 4 * GiB, GiB, "ext4"))));
        Assert.Contains($"starts at {4 * GiB}", moved.Message, StringComparison.Ordinal);
        var otherFs = Assert.Throws<InstallPlanException>(() => Plan(Preserving, InstallPlan.Bios,
            Disk("vdb", 8 * GiB, "DATA1", table: "gpt", parts: new ExistingPartition(3, 2 * GiB + 2 * MiB, 8 * GiB - 2 * GiB - 3 * MiB, "xfs"))));
        Assert.Contains("preserved as ext4", otherFs.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoMatchingDisk_TooSmall_OrAmbiguous_Refused()
    {
        var none = Assert.Throws<InstallPlanException>(() => Plan(Preserving, InstallPlan.Bios, Disk("vda", 8 * GiB, "OTHER")));
        Assert.Contains("wants serial DATA1, and no disk of this node matches (found: vda 8 GiB serial OTHER", none.Message, StringComparison.Ordinal);
        var small = Assert.Throws<InstallPlanException>(() => Plan(Preserving, InstallPlan.Bios, Disk("vdb", GiB, "DATA1")));
        Assert.Contains("does not fit this node's disks", small.Message, StringComparison.Ordinal);
        var bySize = "version: 1\nitems:\n  - { id: d, type: disk, match: { size: 1GiB-100GiB } }\n  - { id: p, type: partition, disk: d, size: rest }\n" +
                     "  - { id: f, type: format, volume: p, fstype: ext4 }\n  - { id: m, type: mount, device: f, path: / }\n";
        var two = Assert.Throws<InstallPlanException>(() => Plan(bySize, InstallPlan.Uefi, Disk("vda", 8 * GiB), Disk("vdb", 9 * GiB)));
        Assert.Contains("which 2 disks match", two.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Firmware_NeedsItsBootPartition()
    {
        const string rootOnly = "version: 1\nitems:\n  - { id: d, type: disk, match: { first: true } }\n  - { id: p, type: partition, disk: d, size: rest }\n" +
                                "  - { id: f, type: format, volume: p, fstype: ext4 }\n  - { id: m, type: mount, device: f, path: / }\n";
        Assert.Contains("needs an EFI system partition", Assert.Throws<InstallPlanException>(() => Plan(rootOnly, InstallPlan.Uefi, Disk("vda", 8 * GiB))).Message, StringComparison.Ordinal);
        Assert.Contains("needs a bios_grub partition", Assert.Throws<InstallPlanException>(() => Plan(rootOnly, InstallPlan.Bios, Disk("vda", 8 * GiB))).Message, StringComparison.Ordinal);
        var msdos = rootOnly.Replace("match: { first: true } }", "match: { first: true }, table: msdos }", StringComparison.Ordinal);
        Assert.Equal(InstallPlan.Msdos, Plan(msdos, InstallPlan.Bios, Disk("vda", 8 * GiB)).Disks[0].Table);
    }

    private const string RaidLvm = """
        version: 1
        items:
          - { id: a, type: disk, match: { serial: A } }
          - { id: b, type: disk, match: { serial: B } }
          - { id: biosa, type: partition, disk: a, size: 1MiB, flags: [bios_grub] }
          - { id: pa, type: partition, disk: a, size: rest, flags: [raid] }
          - { id: biosb, type: partition, disk: b, size: 1MiB, flags: [bios_grub] }
          - { id: pb, type: partition, disk: b, size: rest, flags: [raid] }
          - { id: md, type: raid, name: sys, level: 1, devices: [pa, pb] }
          - { id: vg, type: lvm_vg, name: vg0, devices: [md] }
          - { id: rootlv, type: lvm_lv, vg: vg, name: root, size: rest }
          - { id: swaplv, type: lvm_lv, vg: vg, name: swap, size: 512MiB }
          - { id: root-fs, type: format, volume: rootlv, fstype: ext4 }
          - { id: swap-fs, type: format, volume: swaplv, fstype: swap }
          - { id: root, type: mount, device: root-fs, path: / }
        """;

    [Fact]
    public void RaidAndLvm_PlannedInOrder_WithSizesAndTheRest()
    {
        var plan = Plan(RaidLvm, InstallPlan.Bios, Disk("vda", 8 * GiB, "A"), Disk("vdb", 8 * GiB, "B"));
        var raid = Assert.Single(plan.Raids);
        Assert.Equal(("md", "sys", 1), (raid.Id, raid.Name, raid.Level));
        Assert.Equal(["pa", "pb"], raid.Devices);
        Assert.Equal(InstallPlan.Roles.Raid, plan.Partitions.Single(p => p.Id == "pa").Role);
        var group = Assert.Single(plan.Groups);
        Assert.Equal("vg0", group.Name);
        Assert.Equal(["md"], group.Devices);
        Assert.Equal([("root", true), ("swap", false)], plan.LogicalVolumes.Select(l => (l.Name, l.Rest)));
        Assert.Equal(512 * MiB, plan.LogicalVolumes.Single(l => l.Name == "swap").Size);
        Assert.Equal("rootlv", plan.Formats.Single(f => f.Id == "root-fs").Volume);
        var back = InstallPlan.Parse(plan.Format());
        Assert.Equal(plan.Raids, back.Raids);
        Assert.Equal(plan.Groups, back.Groups);
        Assert.Equal(plan.LogicalVolumes, back.LogicalVolumes);
    }

    [Fact]
    public void RaidOrLvmPreserved_OrMadeOnAPreservedPartition_RefusedWithWhy()
    {
        var kept = RaidLvm.Replace("{ id: vg, type: lvm_vg, name: vg0, devices: [md] }", "{ id: vg, type: lvm_vg, name: vg0, devices: [md], preserve: true }", StringComparison.Ordinal)
            .Replace("{ id: md, type: raid, name: sys, level: 1, devices: [pa, pb] }", "{ id: md, type: raid, name: sys, level: 1, devices: [pa, pb], preserve: true }", StringComparison.Ordinal)
            .Replace("size: rest, flags: [raid] }", "size: rest, flags: [raid], preserve: true }", StringComparison.Ordinal);
        var e = Assert.Throws<InstallPlanException>(() => Plan(kept, InstallPlan.Bios, Disk("vda", 8 * GiB, "A"), Disk("vdb", 8 * GiB, "B")));
        Assert.Contains("raid 'md' (line 9) is preserved: the install makes md arrays and LVM but does not keep them yet", e.Message, StringComparison.Ordinal);
        var onKept = RaidLvm.Replace("{ id: pa, type: partition, disk: a, size: rest, flags: [raid] }", "{ id: pa, type: partition, disk: a, size: rest, flags: [raid], preserve: true }", StringComparison.Ordinal);
        var keep = new ExistingPartition(2, 2 * MiB, 8 * GiB - 3 * MiB, "linux_raid_member");
        var under = Assert.Throws<InstallPlanException>(() => Plan(onKept, InstallPlan.Bios, Disk("vda", 8 * GiB, "A", table: "gpt", parts: keep), Disk("vdb", 8 * GiB, "B")));
        Assert.Contains("'pa' is preserved, but an md array or volume group is made on it: nothing was touched", under.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bios_WithNowhereForGrub_Refused_PercentOfAGroupLeftToLvm()
    {
        // Two msdos disks used whole by the array: no MBR gap, no bios_grub partition, nothing GRUB may write.
        const string whole = """
            version: 1
            items:
              - { id: a, type: disk, match: { serial: A }, table: msdos }
              - { id: b, type: disk, match: { serial: B }, table: msdos }
              - { id: md, type: raid, level: 1, devices: [a, b] }
              - { id: vg, type: lvm_vg, name: vg0, devices: [md] }
              - { id: root, type: lvm_lv, vg: vg, size: 60% }
              - { id: f, type: format, volume: root, fstype: ext4 }
              - { id: m, type: mount, device: f, path: / }
            """;
        var e = Assert.Throws<InstallPlanException>(() => Plan(whole, InstallPlan.Bios, Disk("vda", 8 * GiB, "A"), Disk("vdb", 8 * GiB, "B")));
        Assert.Contains("GRUB needs a bios_grub partition on a GPT disk, or a partitioned msdos disk", e.Message, StringComparison.Ordinal);
        var uefi = whole.Replace("items:", "items:\n  - { id: e, type: disk, match: { serial: E } }\n  - { id: esp, type: partition, disk: e, size: 256MiB, flags: [esp] }\n" +
            "  - { id: esp-fs, type: format, volume: esp, fstype: vfat }\n  - { id: efi, type: mount, device: esp-fs, path: /boot/efi }", StringComparison.Ordinal);
        var plan = Plan(uefi, InstallPlan.Uefi, Disk("vda", 8 * GiB, "A"), Disk("vdb", 8 * GiB, "B"), Disk("vdc", 2 * GiB, "E"));
        Assert.Equal(60, Assert.Single(plan.LogicalVolumes).Percent);
        Assert.Equal(60, InstallPlan.Parse(plan.Format()).LogicalVolumes[0].Percent);
    }
}
