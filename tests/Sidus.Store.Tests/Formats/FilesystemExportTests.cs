using System.Net.Sockets;
using Sidus.Store.Export;

namespace Sidus.Store.Tests.Formats;

public sealed class FilesystemExportTests : IDisposable
{
    private readonly FormatFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Export_Cpio_ExtractedByCpioEqualsTheSource()
    {
        var src = _f.BuildTree();
        _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var archive = _f.PathOf("export.cpio");

        var result = ImageExport.Export(_f.Repository, "img", ExportFormat.Cpio, archive, null, CancellationToken.None);

        Assert.True(result.DroppedXattrs >= 3, $"expected the capability, user xattr and ACL entries counted, got {result.DroppedXattrs}");
        var x = _f.PathOf("x");
        Directory.CreateDirectory(x);
        FormatFixture.Run("bash", "-c", $"cd '{x}' && cpio -idmu --no-absolute-filenames --quiet < '{archive}'");
        // newc keeps whole-second times and no xattrs or ACLs; everything else must match, hard links included.
        var differences = FormatFixture.RunIn(null, "rsync",
            ["-naHc", "--numeric-ids", "--modify-window=1", "--omit-dir-times", "--omit-link-times", "--delete", "-i", src + "/", x + "/"]).Stdout.Trim();
        Assert.Equal("", differences);
        Assert.Equal(new FileInfo(Path.Combine(src, "hl1")).Length, new FileInfo(Path.Combine(x, "sgid/hl3")).Length);
    }

    [Fact]
    public void CpioWriter_EntriesNotFromTheStore_AreReadByCpio()
    {
        var archive = _f.PathOf("init.cpio");
        using (var stream = File.Create(archive))
        {
            var writer = new CpioWriter(stream);
            writer.WriteDirectory("etc"u8.ToArray(), 0x1ED, mtime: 1_600_000_000);
            writer.WriteFile("etc/hello"u8.ToArray(), 0x1A4, "hi there\n"u8, uid: 12, gid: 34, mtime: 1_600_000_000);
            writer.WriteSymlink("init"u8.ToArray(), "etc/hello"u8.ToArray());
            writer.WriteDevice("console"u8.ToArray(), Sidus.Linux.FileKind.CharDevice, 0x180, 5, 1);
            writer.Finish();
        }

        Assert.Equal(0, new FileInfo(archive).Length % 512);
        var listing = FormatFixture.Run("bash", "-c", $"cpio -itv --numeric-uid-gid --quiet < '{archive}'");
        Assert.Contains("etc/hello", listing, StringComparison.Ordinal);
        Assert.Matches(@"-rw-r--r--\s+1\s+12\s+34\s+9 ", listing);
        Assert.Matches(@"crw-------\s+1\s+0\s+0\s+5,\s+1 ", listing);
        Assert.Contains("init -> etc/hello", listing, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_Squashfs_UnsquashedEqualsTheSource()
    {
        var src = _f.BuildTree();
        _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var image = _f.PathOf("export.sqfs");

        ImageExport.Export(_f.Repository, "img", ExportFormat.Squashfs, image, null, CancellationToken.None);

        Assert.False(File.Exists(image + ".tmp"));
        var x = _f.PathOf("x");
        FormatFixture.Run("unsquashfs", "-no-progress", "-quiet", "-d", x, image);
        // squashfs keeps whole-second times and user/trusted/security xattrs (capabilities) but not ACLs.
        var differences = FormatFixture.RunIn(null, "rsync",
            ["-naHXc", "--numeric-ids", "--modify-window=1", "--delete", "-i", src + "/", x + "/"]).Stdout.Trim();
        // sqfstar 4.5.1 (Debian 12) ignores -root-time: the root directory carries the build time, nothing else differs.
        Assert.True(differences is "" or ".d..t...... ./", differences);
        Assert.Contains("cap_net_raw", FormatFixture.Run("getcap", Path.Combine(x, "capfile")), StringComparison.Ordinal);
    }

    [Fact]
    public void Export_Erofs_MountedEqualsTheSource()
    {
        var src = _f.BuildTree();
        _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var image = _f.PathOf("export.erofs");

        ImageExport.Export(_f.Repository, "img", ExportFormat.Erofs, image, null, CancellationToken.None);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_f.Repository.StagingDirectory));
        var mount = _f.PathOf("mnt");
        Directory.CreateDirectory(mount);
        FormatFixture.Run("mount", "-t", "erofs", "-o", "loop,ro", image, mount);
        try
        {
            Assert.Equal("", FormatFixture.Differences(src, mount));
        }
        finally
        {
            FormatFixture.Run("umount", mount);
        }
    }

    [Fact]
    public void Export_TarOfTreeWithSocket_SkipsTheSocketWithAWarning()
    {
        var src = _f.PathOf("sock");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "file"), "data");
        // .NET unlinks the socket file when the socket closes: keep it bound while the tree is imported.
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(src, "control.sock")));
            _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        }

        var archive = _f.PathOf("s.tar");

        var result = ImageExport.Export(_f.Repository, "img", ExportFormat.Tar, archive, null, CancellationToken.None);

        Assert.Equal(1, result.SkippedSockets);
        Assert.Contains(result.Warnings, w => w.Contains("control.sock", StringComparison.Ordinal));
        var listing = FormatFixture.Run("tar", "-tf", archive);
        Assert.Contains("./file", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("control.sock", listing, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_FailingTool_LeavesNoPartialFile()
    {
        var src = _f.BuildTree();
        _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var target = _f.PathOf("out.tar");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            ImageExport.Export(_f.Repository, "img", ExportFormat.Tar, target, null, cancelled.Token));

        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".tmp"));
    }
}
