using Sidus.E2E.Tests.Support;

namespace Sidus.E2E.Tests;

/// <summary>
/// The initramfs carries the image's mke2fs with every library it links: unpacked with cpio and run under chroot
/// (so only the initramfs's own files are there), it must start and format a file.
/// </summary>
public sealed class InitramfsToolsTests(BootImageFixture fixture) : IClassFixture<BootImageFixture>
{
    [Fact]
    public void Initramfs_Mke2fs_RunsFromTheInitramfsAlone()
    {
        var root = Directory.CreateTempSubdirectory("sidus-initramfs-tools-").FullName;
        try
        {
            var cpio = Tool.Require("cpio", "cpio");
            var listing = Tool.Run("sh", "-c", $"cd '{root}' && zcat '{fixture.Boot.InitramfsPath}' | '{cpio}' -idm --quiet && find . -type f | sort");
            Assert.Contains("./sbin/mke2fs", listing, StringComparison.Ordinal);
            Assert.Contains("./etc/mke2fs.conf", listing, StringComparison.Ordinal);
            foreach (var library in new[] { "libext2fs.so.2", "libcom_err.so.2", "libblkid.so.1", "libuuid.so.1", "libe2p.so.2" })
            {
                Assert.Contains("/" + library + "\n", listing, StringComparison.Ordinal);
            }

            File.WriteAllBytes(Path.Combine(root, "disk.img"), new byte[8 << 20]);
            var made = Tool.Run("chroot", root, "/sbin/mke2fs", "-q", "-F", "-t", "ext4", "/disk.img");
            var check = Tool.Run(Tool.Require("dumpe2fs", "e2fsprogs"), "-h", Path.Combine(root, "disk.img"));
            Assert.Contains("Filesystem magic number:  0xEF53", check, StringComparison.Ordinal);
            Assert.DoesNotContain("error", made, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
