using Sidus.Agent.Boot;
using Sidus.Agent.Install;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests;

/// <summary>
/// The installing agent's checks that need no VM: an image lacking what the plan needs is refused before any disk is
/// touched, naming the packages; the filesystems and tables it finds on a disk are the ones the real mkfs and sfdisk
/// made (files here, formatted by Debian's tools).
/// </summary>
public sealed class InstallCodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-install-code-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static InstallPlan Plan(string firmware) => new(
        new string('a', 64), "demo@3", firmware, string.Empty,
        [new PlannedDisk("d", "vda", InstallPlan.Gpt, false)],
        [new PlannedPartition("esp", "d", 1, 1 << 20, 256 << 20, InstallPlan.Roles.Esp, false), new PlannedPartition("r", "d", 2, 257 << 20, 1 << 30, InstallPlan.Roles.Linux, false)],
        [], [], [],
        [new PlannedFormat("esp-fs", "esp", "vfat", null, null, false), new PlannedFormat("r-fs", "r", "xfs", null, null, false)],
        [new PlannedMount("r-fs", "/", null), new PlannedMount("esp-fs", "/boot/efi", null)]);

    private void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_dir + path)!);
        File.WriteAllText(_dir + path, string.Empty);
    }

    [Fact]
    public void CheckImage_Lacking_NamesEveryPackage_AndTheCommand()
    {
        var e = Assert.Throws<InstallException>(() => Installer.CheckImage(new ToolRoot(_dir), Plan(InstallPlan.Uefi)));
        Assert.Contains("demo@3 cannot be installed: it lacks dosfstools, fdisk, grub-efi-amd64-bin, grub2-common, linux-image-amd64, util-linux, xfsprogs.", e.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was written to any disk", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("sidus image exec demo -- apt-get install -y dosfstools fdisk grub-efi-amd64-bin grub2-common linux-image-amd64 util-linux xfsprogs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckImage_WithTheToolsOfItsFirmware_Passes_OtherFirmwareRefused()
    {
        foreach (var tool in new[] { "/usr/sbin/sfdisk", "/usr/sbin/blkid", "/usr/sbin/wipefs", "/usr/sbin/mkfs.vfat", "/usr/sbin/mkfs.xfs", "/usr/sbin/grub-install", "/usr/sbin/update-grub", "/boot/vmlinuz-6.1.0-1-amd64" })
        {
            Touch(tool);
        }

        Directory.CreateDirectory(_dir + "/usr/lib/grub/x86_64-efi");
        Installer.CheckImage(new ToolRoot(_dir), Plan(InstallPlan.Uefi));
        var bios = Assert.Throws<InstallException>(() => Installer.CheckImage(new ToolRoot(_dir), Plan(InstallPlan.Bios)));
        Assert.Contains("it lacks grub-pc-bin.", bios.Message, StringComparison.Ordinal);

        // Arrays need the image's mdadm, volume groups its lvm: both assemble the root at every boot too.
        var raidLvm = Plan(InstallPlan.Uefi) with
        {
            Raids = [new PlannedRaid("md", "sys", 1, ["a", "b"], [])],
            Groups = [new PlannedVolumeGroup("vg", "vg0", ["md"])],
            LogicalVolumes = [new PlannedLogicalVolume("lv", "root", "vg", 0, true)],
        };
        var lacking = Assert.Throws<InstallException>(() => Installer.CheckImage(new ToolRoot(_dir), raidLvm));
        Assert.Contains("it lacks lvm2, mdadm.", lacking.Message, StringComparison.Ordinal);
        Touch("/usr/sbin/mdadm");
        Touch("/usr/sbin/lvm");
        Installer.CheckImage(new ToolRoot(_dir), raidLvm);
    }

    [Fact]
    public void BiosDisks_EveryBiosGrubDiskTheInstallWrites_NeverAPreservedOne()
    {
        PlannedPartition Grub(string disk, bool preserve = false) => new("g" + disk, disk, 1, 1 << 20, 1 << 20, InstallPlan.Roles.BiosGrub, preserve);
        var two = Plan(InstallPlan.Bios) with
        {
            Disks = [new PlannedDisk("a", "vda", InstallPlan.Gpt, false), new PlannedDisk("b", "vdb", InstallPlan.Gpt, false), new PlannedDisk("c", "vdc", InstallPlan.Gpt, true)],
            Partitions = [Grub("a"), Grub("b"), Grub("c")],
        };
        Assert.Equal(["a", "b"], Installer.BiosDisks(two));
        Assert.Equal(["b"], Installer.BiosDisks(two with { Partitions = [Grub("a", preserve: true), Grub("b")] }));
        var msdos = two with
        {
            Disks = [new PlannedDisk("a", "sda", InstallPlan.Msdos, false), new PlannedDisk("d", "sdb", InstallPlan.Msdos, false)],
            Partitions = [new PlannedPartition("r", "a", 1, 1 << 20, 1 << 30, InstallPlan.Roles.Linux, false), new PlannedPartition("keep", "d", 1, 1 << 20, 1 << 30, InstallPlan.Roles.Linux, true)],
        };
        Assert.Equal(["a"], Installer.BiosDisks(msdos));
    }

    [Fact]
    public void EspTargets_EveryVfatEspTheInstallMakes_TheOneAtBootEfiFirst_NeverAPreservedOne()
    {
        PlannedPartition Esp(string disk, bool preserve = false) => new("esp-" + disk, disk, 1, 1 << 20, 256 << 20, InstallPlan.Roles.Esp, preserve);
        PlannedFormat Fat(string disk, bool preserve = false) => new("fat-" + disk, "esp-" + disk, "vfat", null, null, preserve);
        var mirror = Plan(InstallPlan.Uefi) with
        {
            Disks = [new PlannedDisk("a", "vda", InstallPlan.Gpt, false), new PlannedDisk("b", "vdb", InstallPlan.Gpt, false), new PlannedDisk("c", "vdc", InstallPlan.Gpt, true)],
            Partitions = [Esp("a"), Esp("b"), Esp("c")],
            // The second disk's ESP is the one mounted: it comes first, the first disk's is put on unmounted.
            Formats = [Fat("a"), Fat("b"), Fat("c")],
            Mounts = [new PlannedMount("fat-b", "/boot/efi", null)],
        };
        Assert.Equal([("fat-b", "/boot/efi"), ("fat-a", null)], Installer.EspTargets(mirror).Select(e => (e.Esp.Id, e.MountedAt)));

        // A preserved ESP or filesystem is never written; an ESP left unformatted has nothing GRUB could go on.
        var kept = mirror with { Partitions = [Esp("a", preserve: true), Esp("b"), Esp("c")], Formats = [Fat("a"), Fat("b", preserve: true), Fat("c")] };
        Assert.Empty(Installer.EspTargets(kept));
        Assert.Equal(["fat-b"], Installer.EspTargets(mirror with { Formats = [Fat("b")] }).Select(e => e.Esp.Id));
    }

    [Fact]
    public void VolumeGroupNames_TakenOnWhatTheInstallKeeps_AreClashes_OnWhatItWipes_AreNot()
    {
        var plan = Plan(InstallPlan.Bios) with
        {
            Disks = [new PlannedDisk("a", "vda", InstallPlan.Gpt, false), new PlannedDisk("b", "vdb", InstallPlan.Gpt, false), new PlannedDisk("c", "vdc", InstallPlan.Gpt, true)],
            Partitions =
            [
                new PlannedPartition("pv", "a", 2, 2 << 20, 1 << 30, InstallPlan.Roles.Lvm, false),
                new PlannedPartition("data", "b", 3, 2 << 20, 1 << 30, InstallPlan.Roles.Linux, true),
            ],
            Groups = [new PlannedVolumeGroup("vg", "vg0", ["pv"])],
            LogicalVolumes = [new PlannedLogicalVolume("root", "root", "vg", 0, true)],
        };
        (string, int)? PartitionOf(string name) => name.Length == 4 ? (name[..3], name[3] - '0') : null;

        // An earlier install's group on the disks this one rewrites: wiped with them.
        Assert.Empty(VolumeBuilder.NameClashes(plan, [("vg0", "/dev/vda2"), ("vg0", "/dev/vdb1"), ("vg0", "/dev/vda")], PartitionOf));
        // Another disk, a preserved disk, a preserved partition: all stay, so the name is taken.
        Assert.Equal(["'vg0' on /dev/sdz1", "'vg0' on /dev/vdc1", "'vg0' on /dev/vdb3"],
            VolumeBuilder.NameClashes(plan, [("vg0", "/dev/sdz1"), ("vg0", "/dev/vdc1"), ("vg0", "/dev/vdb3")], PartitionOf));
        // Other names, and a device that is no partition of a planned disk (an md array not assembled), as LVM lists them.
        Assert.Equal(["'vg0' on /dev/md5"], VolumeBuilder.NameClashes(plan, [("data", "/dev/sdz1"), ("vg0", "/dev/md5")], PartitionOf));
    }

    [Fact]
    public void LostAndFound_OfEveryNewExt4Filesystem_KeptByTheInstall()
    {
        var plan = Plan(InstallPlan.Uefi) with
        {
            Formats =
            [
                new PlannedFormat("esp-fs", "esp", "vfat", null, null, false), new PlannedFormat("r-fs", "r", "ext4", null, null, false),
                new PlannedFormat("b-fs", "b", "ext4", null, null, false), new PlannedFormat("d-fs", "d", "ext4", null, null, true),
            ],
            Mounts = [new PlannedMount("r-fs", "/", null), new PlannedMount("esp-fs", "/boot/efi", null), new PlannedMount("b-fs", "/boot", null), new PlannedMount("d-fs", "/data", null)],
        };
        Assert.Equal(["/boot/lost+found", "/lost+found"], Installer.LostAndFound(plan));
        _ = new Sidus.Store.Sync.SyncExcludes(Installer.LostAndFound(plan));
    }

    [Theory]
    [InlineData("ext4", "mkfs.ext4", "-q -F")]
    [InlineData("vfat", "mkfs.vfat", "")]
    [InlineData("swap", "mkswap", "-f")]
    public void FilesystemType_OfWhatTheRealToolMade(string expected, string tool, string options)
    {
        var image = Path.Combine(_dir, expected + ".img");
        using (var f = File.Create(image))
        {
            f.SetLength(64L << 20);
        }

        var result = Sidus.Linux.ProcessRunner.Run(tool, [.. options.Split(' ', StringSplitOptions.RemoveEmptyEntries), image], "e2fsprogs dosfstools util-linux");
        Assert.True(result.ExitCode == 0, result.Errors);
        var start = File.ReadAllBytes(image).AsSpan(0, DiskSignature.ProbeLength);
        Assert.Equal(expected, DiskSignature.FilesystemType(start));
        Assert.Equal("none", DiskSignature.TableType(start));
    }

    [Fact]
    public void TableType_GptAndMsdos_FromSfdisk_BlankIsNone()
    {
        foreach (var (label, expected) in new[] { ("gpt", "gpt"), ("dos", "msdos") })
        {
            var image = Path.Combine(_dir, label + ".img");
            using (var f = File.Create(image))
            {
                f.SetLength(64L << 20);
            }

            var result = Sidus.Linux.ProcessRunner.Run("sfdisk", ["--quiet", image], "fdisk", feed: s => s.Write(System.Text.Encoding.ASCII.GetBytes($"label: {label}\nstart=2048, size=4096\n")));
            Assert.True(result.ExitCode == 0, result.Errors);
            Assert.Equal(expected, DiskSignature.TableType(File.ReadAllBytes(image).AsSpan(0, DiskSignature.ProbeLength)));
        }

        Assert.Equal("none", DiskSignature.TableType(new byte[DiskSignature.ProbeLength]));
        Assert.Equal(string.Empty, DiskSignature.FilesystemType(new byte[DiskSignature.ProbeLength]));
    }
}
