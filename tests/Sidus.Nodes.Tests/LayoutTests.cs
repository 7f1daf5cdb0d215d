using Sidus.Nodes.Layouts;

namespace Sidus.Nodes.Tests;

/// <summary>Disk layouts: the YAML read strictly, the checks with file and line, the plan's offsets and sizes.</summary>
public sealed class LayoutTests
{
    private const string Compute = """
        version: 1
        items:
          - id: disk0
            type: disk
            match: { first: true }
          - { id: bios, type: partition, disk: disk0, size: 1MiB, flags: [bios_grub] }
          - { id: esp, type: partition, disk: disk0, size: 512MiB, flags: [esp] }
          - { id: swap, type: partition, disk: disk0, size: 2GiB, flags: [swap] }
          - { id: rootp, type: partition, disk: disk0, size: 25% }
          - { id: scratchp, type: partition, disk: disk0, size: rest, preserve: true }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat }
          - { id: swap-fs, type: format, volume: swap, fstype: swap }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4, label: root }
          - { id: scratch-fs, type: format, volume: scratchp, fstype: xfs, preserve: true }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-fs, path: /boot/efi }
          - { id: scratch, type: mount, device: scratch-fs, path: /scratch }
        """;

    private const long MiB = 1L << 20;
    private const long GiB = 1L << 30;

    [Fact]
    public void Plan_Gpt_AlignedOffsets_PercentAndRest_NoWarnings()
    {
        var layout = LayoutYaml.Parse(Compute, "c.yaml");
        Assert.Empty(layout.Warnings);
        var plan = LayoutPlan.Make(layout, new Dictionary<string, long> { ["disk0"] = 100 * GiB });
        var v = plan.Volumes.ToDictionary(x => x.Id);
        Assert.Equal((1, MiB, MiB), (v["bios"].Number!.Value, v["bios"].Start!.Value, v["bios"].Size));
        Assert.Equal((2, 2 * MiB, 512 * MiB), (v["esp"].Number!.Value, v["esp"].Start!.Value, v["esp"].Size));
        Assert.Equal(514 * MiB, v["swap"].Start);
        var usable = 100 * GiB - 2 * MiB; // GPT keeps the first and the last MiB
        Assert.Equal(usable / 4 / MiB * MiB, v["rootp"].Size);
        var scratch = v["scratchp"];
        Assert.Equal(100 * GiB - MiB, scratch.Start + scratch.Size); // rest runs to the last usable MiB
        Assert.True(scratch.Preserve);
        Assert.Equal(v["rootp"].Size, v["root"].Size);
        Assert.Equal("/scratch", v["scratch"].Detail);
    }

    [Fact]
    public void Mirror_BootPartitionsOnSomeOfItsDisksOnly_Warned_OnEveryDisk_NotWarned()
    {
        const string text = """
            version: 1
            items:
              - { id: a, type: disk, match: { serial: S1 } }
              - { id: b, type: disk, match: { serial: S2 } }
              - { id: ga, type: partition, disk: a, size: 1MiB, flags: [bios_grub] }
              - { id: ea, type: partition, disk: a, size: 512MiB, flags: [esp] }
              - { id: a1, type: partition, disk: a, size: rest, flags: [raid] }
              - { id: gb, type: partition, disk: b, size: 1MiB, flags: [bios_grub] }
              - { id: b1, type: partition, disk: b, size: rest, flags: [raid] }
              - { id: md0, type: raid, level: 1, devices: [a1, b1] }
              - { id: efa, type: format, volume: ea, fstype: vfat }
              - { id: rootfs, type: format, volume: md0, fstype: ext4 }
              - { id: root, type: mount, device: rootfs, path: / }
              - { id: efi, type: mount, device: efa, path: /boot/efi }
            """;
        var warning = Assert.Single(LayoutYaml.Parse(text, "m.yaml").Warnings);
        Assert.Equal("m.yaml:10: raid 'md0' survives a lost disk, but disk 'b' has no esp partition: under UEFI it cannot boot alone (give it an esp partition with a vfat format too)", warning);

        var both = text.Replace("  - { id: b1,", "  - { id: eb, type: partition, disk: b, size: 512MiB, flags: [esp] }\n  - { id: b1,", StringComparison.Ordinal)
            .Replace("  - { id: efi,", "  - { id: efb, type: format, volume: eb, fstype: vfat }\n  - { id: efi,", StringComparison.Ordinal);
        Assert.Empty(LayoutYaml.Parse(both, "m.yaml").Warnings);
        // raid0 does not survive a lost disk: nothing to warn about.
        Assert.Empty(LayoutYaml.Parse(text.Replace("level: 1", "level: 0", StringComparison.Ordinal), "m.yaml").Warnings);
    }

    [Fact]
    public void Plan_RaidAndLvm_SizesFromMembers()
    {
        const string text = """
            version: 1
            items:
              - { id: a, type: disk, match: { serial: S1 } }
              - { id: b, type: disk, match: { serial: S2 } }
              - { id: a1, type: partition, disk: a, size: rest, flags: [raid] }
              - { id: b1, type: partition, disk: b, size: rest, flags: [raid] }
              - { id: md0, type: raid, level: 1, devices: [a1, b1] }
              - { id: vg, type: lvm_vg, name: sys, devices: [md0] }
              - { id: lvroot, type: lvm_lv, vg: vg, name: root, size: 10GiB }
              - { id: lvdata, type: lvm_lv, vg: vg, name: data, size: rest }
              - { id: rootfs, type: format, volume: lvroot, fstype: ext4 }
              - { id: datafs, type: format, volume: lvdata, fstype: btrfs }
              - { id: root, type: mount, device: rootfs, path: / }
              - { id: data, type: mount, device: datafs, path: /data }
            """;
        var layout = LayoutYaml.Parse(text, "r.yaml");
        Assert.Contains(layout.Warnings, w => w.Contains("no esp", StringComparison.Ordinal));
        var plan = LayoutPlan.Make(layout, new Dictionary<string, long> { ["a"] = 50 * GiB, ["b"] = 60 * GiB });
        var v = plan.Volumes.ToDictionary(x => x.Id);
        // raid1: the smaller member less mdadm's data offset: a 32 MiB headroom for a 50 GiB member, and a MiB.
        Assert.Equal(33 * MiB, LayoutPlan.RaidOverhead(50 * GiB - 2 * MiB));
        Assert.Equal(50 * GiB - 2 * MiB - 33 * MiB, v["md0"].Size);
        Assert.Equal((v["md0"].Size - MiB) / (4 * MiB) * (4 * MiB), v["vg"].Size);
        Assert.Equal(10 * GiB, v["lvroot"].Size);
        Assert.Equal(v["vg"].Size - 10 * GiB, v["lvdata"].Size);
        Assert.Equal("/dev/sys/data", v["lvdata"].Detail);
    }

    [Theory]
    [InlineData(2045L << 20, 2L << 20)]
    [InlineData(4L << 40, 129L << 20)]
    [InlineData(100L << 30, 65L << 20)]
    public void RaidOverhead_IsMdadmsHeadroomAndAMiB(long member, long overhead) => Assert.Equal(overhead, LayoutPlan.RaidOverhead(member));

    [Theory]
    [InlineData("{ id: md, type: raid, level: 0, devices: [a, b], spares: [c] }", "raid0 has no redundancy to rebuild: it takes no spares")]
    [InlineData("{ id: md, type: raid, name: a-very-long-array-name-of-33-chars, level: 1, devices: [a, b] }", "longer than an md array's name may be (32")]
    [InlineData("{ id: vg, type: lvm_vg, name: mapper, devices: [a] }", "would be /dev/mapper, which the system uses")]
    [InlineData("{ id: vg, type: lvm_vg, devices: [a] }\n  - { id: lv, type: lvm_lv, vg: vg, name: snapshot1, size: rest }", "reserved by LVM")]
    [InlineData("{ id: vg, type: lvm_vg, devices: [a] }\n  - { id: lv, type: lvm_lv, vg: vg, name: data_rimage_0, size: rest }", "reserved by LVM")]
    public void RaidAndLvm_WhatMdadmOrLvmWouldRefuse_RefusedFirst(string extra, string expected)
    {
        var text = "version: 1\nitems:\n  - { id: d, type: disk, match: { first: true } }\n" +
                   "  - { id: a, type: partition, disk: d, size: 1GiB }\n  - { id: b, type: partition, disk: d, size: 1GiB }\n" +
                   "  - { id: c, type: partition, disk: d, size: 1GiB }\n  - " + extra + "\n";
        var e = Assert.Throws<LayoutException>(() => LayoutYaml.Parse(text, "r.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("partitions need", "disk0", 10L << 30)]
    public void Plan_DoesNotFit_NamesTheDiskAndItsLine(string expected, string disk, long size)
    {
        var e = Assert.Throws<LayoutException>(() => LayoutPlan.Make(LayoutYaml.Parse(Compute.Replace("25%", "20GiB", StringComparison.Ordinal), "c.yaml"), new Dictionary<string, long> { [disk] = size }));
        Assert.StartsWith("c.yaml:3: disk 'disk0': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ id: x, type: partition, disk: nodisk, size: 1GiB }", "names no earlier item")]
    [InlineData("{ id: x, type: partition, disk: rootp, size: 1GiB }", "is a partition, not a disk")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: 1GiB, flags: [esp] }", "already has a esp partition")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: rest }", "already has a partition of size 'rest'")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: 80% }", "add up to more than 100%")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: 12 parsecs }", "is not a size")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: 1G, flags: [bootable] }", "'bootable' is not a flag")]
    [InlineData("{ id: x, type: format, volume: rootp, fstype: ext4 }", "already used by format 'root-fs'")]
    [InlineData("{ id: x, type: format, volume: bios, fstype: ext4 }", "it takes no filesystem")]
    [InlineData("{ id: x, type: mount, device: swap-fs, path: /swap }", "swap is enabled from fstab")]
    [InlineData("{ id: x, type: mount, device: root-fs, path: /again }", "already mounted by 'root'")]
    [InlineData("{ id: x, type: mount, device: esp-fs, path: /scratch }", "'/scratch' is already mounted")]
    [InlineData("{ id: x, type: mount, device: esp-fs, path: ../etc }", "must be absolute and plain")]
    [InlineData("{ id: root, type: disk, match: { serial: Z } }", "the id is already used on line")]
    [InlineData("{ id: Upper, type: disk, match: { serial: Z } }", "an id is 1 to 64 of a-z")]
    [InlineData("{ id: d2, type: disk, match: { path: /dev/sdb } }", "is not stable")]
    [InlineData("{ id: d2, type: disk, match: { first: true } }", "only one disk may match 'first'")]
    [InlineData("{ id: d2, type: disk, match: { serial: Z } }", "nothing uses this disk")]
    [InlineData("{ id: md, type: raid, level: 5, devices: [rootp] }", "raid5 needs at least 3 devices")]
    [InlineData("{ id: md, type: raid, level: 4, devices: [rootp] }", "level '4' is not one of")]
    [InlineData("{ id: x, type: partition, disk: disk0, size: 1G, colour: red }", "'colour' is not a key of a partition item")]
    [InlineData("{ id: x, type: volume }", "'volume' is not a type")]
    public void Mistakes_NameLineAndField(string extra, string expected)
    {
        var text = Compute + "\n  - " + extra + "\n";
        var e = Assert.Throws<LayoutException>(() => LayoutYaml.Parse(text, "c.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("c.yaml:18:", e.Message, StringComparison.Ordinal); // the added item's line
    }

    [Fact]
    public void Preserve_MustHoldAllTheWayDown()
    {
        var e = Assert.Throws<LayoutException>(() => LayoutYaml.Parse(Compute.Replace("size: rest, preserve: true", "size: rest", StringComparison.Ordinal), "c.yaml"));
        Assert.Contains("format 'scratch-fs': is preserved but partition 'scratchp' under it is not", e.Message, StringComparison.Ordinal);
        var disk = Compute.Replace("match: { first: true }", "match: { first: true }\n    preserve: true", StringComparison.Ordinal);
        Assert.Contains("disk 'disk0' is preserved", Assert.Throws<LayoutException>(() => LayoutYaml.Parse(disk, "c.yaml")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Msdos_FourPartitionsAndTwoTiB()
    {
        var msdos = Compute.Replace("match: { first: true }", "match: { first: true }\n    table: msdos", StringComparison.Ordinal);
        Assert.Contains("bios_grub is for GPT disks", Assert.Throws<LayoutException>(() => LayoutYaml.Parse(msdos, "m.yaml")).Message, StringComparison.Ordinal);
        var noBios = msdos.Replace("  - { id: bios, type: partition, disk: disk0, size: 1MiB, flags: [bios_grub] }\n", string.Empty, StringComparison.Ordinal);
        var layout = LayoutYaml.Parse(noBios, "m.yaml");
        var plan = LayoutPlan.Make(layout, new Dictionary<string, long> { ["disk0"] = 4L << 40 });
        var last = plan.Volumes.Single(v => v.Id == "scratchp");
        Assert.Equal(LayoutPlan.MsdosLimit, last.Start + last.Size);
        var five = noBios.Replace("  - { id: esp-fs", "  - { id: p5, type: partition, disk: disk0, size: 1GiB }\n  - { id: esp-fs", StringComparison.Ordinal);
        Assert.Contains("holds 4 partitions", Assert.Throws<LayoutException>(() => LayoutYaml.Parse(five, "m.yaml")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("20G", 20L << 30)]
    [InlineData("500GB", 500_000_000_000L)]
    [InlineData("1.5TiB", 3L << 39)]
    [InlineData("4096", 4096L)]
    public void ByteSize_Units(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size, out _));
        Assert.Equal(bytes, size.Bytes);
    }
}
