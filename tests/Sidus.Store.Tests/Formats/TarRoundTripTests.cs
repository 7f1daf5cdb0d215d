using Sidus.Store.Checkout;
using Sidus.Store.Export;

namespace Sidus.Store.Tests.Formats;

public sealed class TarRoundTripTests : IDisposable
{
    private readonly FormatFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Import_GnuTarPosixArchiveWithXattrsAndAcls_ChecksOutIdentical()
    {
        var src = _f.BuildTree();
        var archive = _f.PathOf("a.tar");
        FormatFixture.Run("tar", "--format=posix", "--xattrs", "--xattrs-include=*", "--acls", "--sparse", "-cpf", archive, "-C", src, ".");

        var version = _f.Images.Import("img", archive, "from tar", null, CancellationToken.None);
        Assert.True(version.Created);
        var outDir = _f.PathOf("out");
        _f.Images.Checkout("img", outDir, new CheckoutOptions(), CancellationToken.None);

        Assert.Equal("", FormatFixture.Differences(src, outDir));
        Assert.True(FormatFixture.Allocated(Path.Combine(outDir, "sparse")) < 1 << 20, "the sparse file's holes were filled");
        Assert.Equal(20L << 20, new FileInfo(Path.Combine(outDir, "sparse")).Length);
    }

    [Fact]
    public void Import_GnuFormatArchiveWithLongNamesAndOldSparse_ChecksOutIdentical()
    {
        var src = _f.BuildTree();
        var archive = _f.PathOf("g.tar");
        // GNU format: 'L'/'K' long names, base-256 ids, old 'S' sparse members, whole-second times, no xattrs.
        FormatFixture.Run("tar", "--format=gnu", "--sparse", "-cpf", archive, "-C", src, ".");

        _f.Images.Import("img", archive, "gnu", null, CancellationToken.None);
        var outDir = _f.PathOf("out");
        _f.Images.Checkout("img", outDir, new CheckoutOptions(), CancellationToken.None);

        var differences = FormatFixture.RunIn(null, "rsync", ["-naHc", "--numeric-ids", "--modify-window=1", "--delete", "-i", src + "/", outDir + "/"]).Stdout.Trim();
        Assert.Equal("", differences);
        Assert.True(FormatFixture.Allocated(Path.Combine(outDir, "sparse")) < 1 << 20, "the sparse file's holes were filled");
    }

    [Theory]
    [InlineData("gzip", ".tar.gz")]
    [InlineData("zstd", ".tar.zst")]
    [InlineData("xz", ".tar.xz")]
    public void Import_CompressedArchive_GivesTheSameTreeAsUncompressed(string compressor, string extension)
    {
        var src = _f.BuildTree();
        var archive = _f.PathOf("a.tar");
        FormatFixture.Run("tar", "--format=posix", "--xattrs", "--xattrs-include=*", "--acls", "--sparse", "-cpf", archive, "-C", src, ".");
        // The name says nothing of the compression: it is told by the magic bytes.
        var compressed = _f.PathOf("a" + extension);
        FormatFixture.Run("bash", "-c", $"{compressor} -c < '{archive}' > '{compressed}'");
        var disguised = _f.PathOf("plain-name.tar");
        File.Copy(compressed, disguised);

        var plain = _f.Images.Import("plain", archive, "plain", null, CancellationToken.None);
        var packed = _f.Images.Import("packed", disguised, "packed", null, CancellationToken.None);

        Assert.Equal(plain.Commit.Root.Tree, packed.Commit.Root.Tree);
        Assert.Equal(plain.Commit.Files, packed.Commit.Files);
    }

    [Fact]
    public void Export_Tar_ExtractedByGnuTarEqualsTheSource()
    {
        var src = _f.BuildTree();
        _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var archive = _f.PathOf("export.tar");

        var result = ImageExport.Export(_f.Repository, "img", ExportFormat.Tar, archive, null, CancellationToken.None);

        Assert.False(File.Exists(archive + ".tmp"));
        Assert.Equal(new FileInfo(archive).Length, result.OutputBytes);
        var x = _f.PathOf("x");
        Directory.CreateDirectory(x);
        FormatFixture.Run("tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "-xpf", archive, "-C", x);
        Assert.Equal("", FormatFixture.Differences(src, x));
        Assert.True(FormatFixture.Allocated(Path.Combine(x, "sparse")) < 1 << 20, "GNU tar filled the holes: the sparse map is wrong");
    }

    [Fact]
    public void Export_Tar_ReimportsToTheSameTree()
    {
        var src = _f.BuildTree();
        var original = _f.Images.ImportDirectory("img", src, "dir", null, CancellationToken.None);
        var archive = _f.PathOf("export.tar");
        ImageExport.Export(_f.Repository, "img", ExportFormat.Tar, archive, null, CancellationToken.None);

        var again = _f.Images.Import("again", archive, "tar", null, CancellationToken.None);

        Assert.Equal(original.Commit.Root.Tree, again.Commit.Root.Tree);
    }
}
