using System.Diagnostics;
using Sidus.Wire.Tests.Tftp.Support;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpDirectoryFileSourceTests
{
    [Fact]
    public async Task Open_NestedRegularFile_IsFoundWithLength()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        var content = root.WriteRandomFile("a/b/c.bin", 3000, seed: 1);
        using var source = new TftpDirectoryFileSource(root.Path);

        var result = source.Open("a/b/c.bin");

        Assert.NotNull(result.File);
        await using var file = result.File;
        Assert.Equal(3000, file.Length);
        using var copy = new MemoryStream();
        await file.Content.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public void Open_SymlinkToFileOutsideRoot_IsRefused()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        File.CreateSymbolicLink(root.Combine("passwd"), "/etc/passwd");
        using var source = new TftpDirectoryFileSource(root.Path);

        var result = source.Open("passwd");

        Assert.Null(result.File);
        Assert.True(result.Denied);
        Assert.Contains("symbolic link", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_PathThroughDirectorySymlink_IsRefused()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        Directory.CreateSymbolicLink(root.Combine("etc"), "/etc");
        using var source = new TftpDirectoryFileSource(root.Path);

        var result = source.Open("etc/passwd");

        Assert.Null(result.File);
        Assert.True(result.Denied);
    }

    [Fact]
    public void Open_SymlinkInsideRoot_IsRefusedToo()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        root.WriteRandomFile("real.bin", 10, seed: 2);
        File.CreateSymbolicLink(root.Combine("alias.bin"), "real.bin");
        using var source = new TftpDirectoryFileSource(root.Path);

        Assert.True(source.Open("alias.bin").Denied);
    }

    [Fact]
    public async Task Open_FifoOrDirectory_IsRefusedWithoutBlocking()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        Directory.CreateDirectory(root.Combine("dir"));
        using (var mkfifo = Process.Start("mkfifo", root.Combine("fifo")))
        {
            await mkfifo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using var source = new TftpDirectoryFileSource(root.Path);

        Assert.True(source.Open("fifo").Denied);
        Assert.True(source.Open("dir").Denied);
    }

    [Fact]
    public void Open_MissingOrUnderAFile_IsNotFound()
    {
        using var root = new TestDirectory("sidus-tftp-src-");
        root.WriteRandomFile("file", 10, seed: 3);
        using var source = new TftpDirectoryFileSource(root.Path);

        var missing = source.Open("nothing");
        var underFile = source.Open("file/child");

        Assert.False(missing.Denied);
        Assert.Null(missing.File);
        Assert.False(underFile.Denied);
        Assert.Null(underFile.File);
    }

    [Fact]
    public void Constructor_MissingRoot_Throws() =>
        Assert.ThrowsAny<IOException>(() => new TftpDirectoryFileSource("/nonexistent/sidus-tftp-root"));
}
