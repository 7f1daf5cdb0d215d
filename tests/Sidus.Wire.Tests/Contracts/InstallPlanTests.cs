using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

public sealed class InstallPlanTests
{
    private static readonly InstallPlan Sample = new(
        new string('a', 64), "demo@3", InstallPlan.Uefi, "console=ttyS0,115200 quiet",
        [new PlannedDisk("disk0", "nvme0n1", InstallPlan.Gpt, false)],
        [new PlannedPartition("esp", "disk0", 1, 1 << 20, 256 << 20, InstallPlan.Roles.Esp, false),
         new PlannedPartition("data", "disk0", 2, 257 << 20, 1L << 33, InstallPlan.Roles.Linux, true)],
        [new PlannedRaid("md", "sys", 10, ["p1", "p2", "p3", "p4"], ["p5"]), new PlannedRaid("md2", "two", 1, ["a", "b"], [])],
        [new PlannedVolumeGroup("vg", "vg-0", ["md", "md2"])],
        [new PlannedLogicalVolume("lv1", "root", "vg", 4L << 30, false), new PlannedLogicalVolume("lv2", "home", "vg", 0, true),
         new PlannedLogicalVolume("lv3", "srv", "vg", 1L << 30, false, 12.5)],
        [new PlannedFormat("esp-fs", "esp", "vfat", "ESP", null, false), new PlannedFormat("data-fs", "data", "xfs", "my data", "-m crc=1", true)],
        [new PlannedMount("esp-fs", "/boot/efi", null), new PlannedMount("data-fs", "/srv/my data", "noatime,nofail")]);

    [Fact]
    public void Plan_RoundTrips_WithBlanksEmptyAndMissingFields()
    {
        var text = Sample.Format();
        var back = InstallPlan.Parse(text);
        Assert.Equal(Sample.Version, back.Version);
        Assert.Equal(Sample.KernelArgs, back.KernelArgs);
        Assert.Equal(Sample.Disks, back.Disks);
        Assert.Equal(Sample.Partitions, back.Partitions);
        Assert.Equal(Sample.Raids, back.Raids);
        Assert.Equal(Sample.Groups, back.Groups);
        Assert.Equal(Sample.LogicalVolumes, back.LogicalVolumes);
        Assert.Equal(Sample.Formats, back.Formats);
        Assert.Equal(Sample.Mounts, back.Mounts);
        Assert.DoesNotContain("\n\n", text, StringComparison.Ordinal);
        Assert.Equal(string.Empty, InstallPlan.Parse((Sample with { KernelArgs = string.Empty }).Format()).KernelArgs);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sidus-install-plan 2\n")]
    [InlineData("sidus-install-plan 1\npartition a b x 1 2 linux 0\n")]
    [InlineData("sidus-install-plan 1\nteleport now\n")]
    [InlineData("sidus-install-plan 1\ndisk a b gpt 0\n")]
    public void Plan_Malformed_IsAFormatError(string text) => Assert.Throws<FormatException>(() => InstallPlan.Parse(text));

    [Fact]
    public void Disks_RoundTrip_WithTheirPartitions()
    {
        DiskFacts[] disks =
        [
            new("vda", 4L << 30, false, "SER 1", null, "pci-0000:00:04.0", null, "gpt", [new ExistingPartition(1, 1 << 20, 1 << 20, ""), new ExistingPartition(2, 2 << 20, 1 << 30, "ext4")]),
            new("sdb", 1L << 34, true, null, "0x5000c500a1b2c3d4", null, "QEMU HARDDISK", "none", []),
        ];
        var (firmware, back) = InstallPlan.ParseDisks(InstallPlan.FormatDisks(InstallPlan.Bios, disks));
        Assert.Equal(InstallPlan.Bios, firmware);
        Assert.Equal(2, back.Count);
        Assert.Equal(disks[0] with { Partitions = [] }, back[0] with { Partitions = [] });
        Assert.Equal(disks[0].Partitions, back[0].Partitions);
        Assert.Equal(disks[1] with { Partitions = [] }, back[1] with { Partitions = [] });
        Assert.Throws<FormatException>(() => InstallPlan.ParseDisks("sidus-disks 1\nhas vdz 1 2 3 ext4\n"));
    }

    [Theory]
    [InlineData("installed 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true, false)]
    [InlineData("updated 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", true, true)]
    [InlineData("installed 0123", false, false)]
    [InlineData("installed 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false, false)]
    [InlineData("removed 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false, false)]
    public void Done_ParsesOnlyAVersionId(string text, bool ok, bool updated)
    {
        Assert.Equal(ok, InstallPlan.TryParseDone(text, out var isUpdate, out _));
        Assert.Equal(updated, ok && isUpdate);
    }
}
