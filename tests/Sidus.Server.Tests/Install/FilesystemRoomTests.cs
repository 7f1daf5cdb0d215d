using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Sidus.Nodes.Layouts;
using Sidus.Server.Install;
using Sidus.Store;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests.Install;

/// <summary>
/// A layout whose filesystems cannot hold the version is refused before the node touches a disk: the footprint of a
/// real imported tree, the room against what mke2fs itself leaves.
/// </summary>
public sealed class FilesystemRoomTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly string _work = Directory.CreateTempSubdirectory("sidus-room-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("ext4", 64)]
    [InlineData("ext4", 300)]
    [InlineData("ext4", 600)]
    [InlineData("ext4", 2048)]
    [InlineData("ext4", 4096)]
    [InlineData("ext4", 20480)]
    [InlineData("xfs", 300)]
    [InlineData("xfs", 2048)]
    [InlineData("xfs", 20480)]
    [InlineData("vfat", 64)]
    [InlineData("vfat", 256)]
    [InlineData("vfat", 2048)]
    public void Room_IsWhatMkfsLeaves_NeverLess_AtMostAPercentMore(string fsType, long mib)
    {
        var image = Path.Combine(_work, "fs.img");
        using (var file = File.Create(image))
        {
            file.SetLength(mib * MiB);
        }

        var free = FreeBytes(fsType, image);
        var room = FilesystemRoom.Room(fsType, mib * MiB)!.Value;
        Assert.True(room >= free, $"{fsType}, {mib} MiB: estimated {room / MiB} MiB, mkfs leaves {free / MiB} MiB: an install that fits would be refused");
        Assert.True(room <= (free * 101 / 100) + (2 * MiB), $"{fsType}, {mib} MiB: estimated {room / MiB} MiB, mkfs leaves only {free / MiB} MiB");
    }

    /// <summary>What a new filesystem of FSTYPE made by its own mkfs on IMAGE has free, as that filesystem's tools count it.</summary>
    private static long FreeBytes(string fsType, string image)
    {
        static long Number(string text, string pattern) =>
            long.Parse(Regex.Match(text, pattern, RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);
        switch (fsType)
        {
            case "ext4":
                ProcessRunner.RunChecked(Tool.Require("mkfs.ext4", "e2fsprogs"), ["-q", "-F", image], TimeSpan.FromMinutes(2));
                var header = ProcessRunner.RunChecked(Tool.Require("dumpe2fs", "e2fsprogs"), ["-h", image]).StandardOutput;
                return Number(header, @"^Free blocks:\s+(\d+)") * Number(header, @"^Block size:\s+(\d+)");
            case "xfs":
                ProcessRunner.RunChecked(Tool.Require("mkfs.xfs", "xfsprogs"), ["-q", "-f", image], TimeSpan.FromMinutes(2));
                var super = ProcessRunner.RunChecked(Tool.Require("xfs_db", "xfsprogs"), ["-r", "-c", "sb 0", "-c", "p fdblocks blocksize", image]).StandardOutput;
                return Number(super, @"^fdblocks = (\d+)") * Number(super, @"^blocksize = (\d+)");
            default:
                ProcessRunner.RunChecked(Tool.Require("mkfs.vfat", "dosfstools"), [image]);
                var check = ProcessRunner.Run(Tool.Require("fsck.vfat", "dosfstools"), ["-n", "-v", image]).StandardOutput;
                return Number(check, @"data clusters \((\d+) bytes\)");
        }
    }

    [Fact]
    public void Footprint_RoundsToBlocks_CountsAHardLinkOnce_ByDirectory()
    {
        var root = Directory.CreateDirectory(Path.Combine(_work, "root")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "usr", "lib"));
        File.WriteAllBytes(Path.Combine(root, "usr", "lib", "five"), new byte[5000]);
        File.WriteAllBytes(Path.Combine(root, "usr", "one"), new byte[1]);
        File.CreateSymbolicLink(Path.Combine(root, "usr", "short"), "one");
        File.CreateSymbolicLink(Path.Combine(root, "usr", "long"), new string('x', 100));
        ProcessRunner.RunChecked("ln", [Path.Combine(root, "usr", "lib", "five"), Path.Combine(root, "usr", "again")]);
        File.WriteAllBytes(Path.Combine(root, "empty"), []);

        var footprint = Import(root);
        const long Block = VersionFootprint.Block;
        // The hard link's data counts once, under its first name in the walk: /usr/again before /usr/lib/five.
        Assert.Equal(Block, footprint.BytesUnder("/usr/lib"));
        Assert.Equal(Block + Block + (2 * Block) + Block + footprint.BytesUnder("/usr/lib"), footprint.BytesUnder("/usr"));
        Assert.Equal(Block + footprint.BytesUnder("/usr"), footprint.BytesUnder("/"));
        Assert.Equal(0, footprint.BytesUnder("/data"));
    }

    private const string Layout = """
        version: 1
        items:
          - { id: d, type: disk, match: { first: true } }
          - { id: bios, type: partition, disk: d, size: 1MiB, flags: [bios_grub] }
          - { id: rootp, type: partition, disk: d, size: 4MiB }
          - { id: keep, type: partition, disk: d, size: 8MiB, preserve: true }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: keep-fs, type: format, volume: keep, fstype: ext4, preserve: true }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: data, type: mount, device: keep-fs, path: /usr }
        """;

    [Fact]
    public void Plan_RootTooSmallForTheVersion_RefusedNamingSizesAndWhatToDo_ADeeperMountTakesItsPart()
    {
        var root = Directory.CreateDirectory(Path.Combine(_work, "big")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "usr"));
        File.WriteAllBytes(Path.Combine(root, "usr", "data"), RandomNumberGenerator.GetBytes((int)(3 * MiB)));
        var footprint = Import(root);
        var disk = new DiskFacts("vda", 64 * MiB, false, null, null, null, null, "gpt",
            [new ExistingPartition(3, 6 * MiB, 8 * MiB, "ext4")]);
        InstallPlan Plan(string yaml) => InstallPlanner.Plan(LayoutYaml.Parse(yaml, "room.yaml"), "room", InstallPlan.Bios, [disk],
            new string('0', 64), "big@1", string.Empty, footprint);

        // /usr preserved: not mounted while the version is written, so its 3 MiB land on the 4 MiB root's ~2.7 MiB.
        var refused = Assert.Throws<InstallPlanException>(() => Plan(Layout));
        Assert.Contains("big@1 puts 3.0 MiB of files on /, but filesystem 'root-fs' (ext4 on 'rootp', 4.0 MiB) has room for about 2.7 MiB: nothing was touched", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Give 'rootp' more room", refused.Message, StringComparison.Ordinal);

        // /usr made by the install: it takes its own files, and the root holds the rest.
        Assert.Equal(2, Plan(Layout.Replace(", preserve: true", string.Empty, StringComparison.Ordinal)).Mounts.Count);
    }

    private VersionFootprint Import(string root)
    {
        using var repository = Repository.Open(Path.Combine(_work, "home-" + Path.GetFileName(root)));
        var version = new ImageStore(repository).ImportDirectory("room", root, "room test", null, CancellationToken.None).Id;
        return VersionFootprint.Walk(repository, repository.ReadCommit(version), CancellationToken.None);
    }
}
