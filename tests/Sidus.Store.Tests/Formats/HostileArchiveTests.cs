using Sidus.Store.Checkout;

namespace Sidus.Store.Tests.Formats;

public sealed class HostileArchiveTests : IDisposable
{
    private readonly FormatFixture _f = new();

    public void Dispose() => _f.Dispose();

    private string Write(string name, byte[] data)
    {
        var path = _f.PathOf(name);
        File.WriteAllBytes(path, data);
        return path;
    }

    private StoreException ImportFails(string archive)
    {
        var e = Assert.ThrowsAny<StoreException>(() => _f.Images.Import("img", archive, "hostile", null, CancellationToken.None));
        Assert.Null(_f.Repository.Refs.Head("img"));
        return e;
    }

    [Fact]
    public void Import_DotDotMember_IsRefusedNamingTheMember()
    {
        var archive = Write("dd.tar", RawTar.Build(("ok", RawTar.Regular, "fine", ""), ("etc/../../evil", RawTar.Regular, "x", "")));

        var e = ImportFails(archive);

        Assert.Contains("'etc/../../evil'", e.Message, StringComparison.Ordinal);
        Assert.Contains("..", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_AbsoluteMember_IsPlacedUnderTheImageRoot()
    {
        var marker = $"/sidus-abs-{Guid.NewGuid():N}";
        var archive = Write("abs.tar", RawTar.Build((marker + "/file", RawTar.Regular, "inside", "")));

        _f.Images.Import("img", archive, "abs", null, CancellationToken.None);
        var outDir = _f.PathOf("out");
        _f.Images.Checkout("img", outDir, new CheckoutOptions(), CancellationToken.None);

        Assert.False(Directory.Exists(marker));
        Assert.Equal("inside", File.ReadAllText(Path.Combine(outDir, marker.TrimStart('/'), "file")));
    }

    [Fact]
    public void Import_FileThroughSymlinkPointingOutside_IsRefusedAndNothingIsWrittenThere()
    {
        var outside = _f.PathOf("outside");
        Directory.CreateDirectory(outside);
        var archive = Write("through.tar", RawTar.Build(
            ("esc", RawTar.Symlink, "", outside),
            ("esc/pwned", RawTar.Regular, "gotcha", "")));

        var e = ImportFails(archive);

        Assert.Contains("esc/pwned", e.Message, StringComparison.Ordinal);
        Assert.Contains("symlink", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public void Import_SymlinksPointingOut_AreRecordedOnlyAndCheckoutStaysInside()
    {
        var outside = _f.PathOf("outside");
        Directory.CreateDirectory(outside);
        var archive = Write("links.tar", RawTar.Build(
            ("up", RawTar.Symlink, "", "../../../../../"),
            ("abs", RawTar.Symlink, "", outside),
            ("abs2", RawTar.HardLink, "", "abs")));

        _f.Images.Import("img", archive, "links", null, CancellationToken.None);
        var outDir = _f.PathOf("out");
        _f.Images.Checkout("img", outDir, new CheckoutOptions(), CancellationToken.None);

        Assert.Equal("../../../../../", new FileInfo(Path.Combine(outDir, "up")).LinkTarget);
        Assert.Equal(outside, new FileInfo(Path.Combine(outDir, "abs2")).LinkTarget);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public void Import_HardLinkToUnseenMember_IsAClearError()
    {
        var archive = Write("hl.tar", RawTar.Build(("a", RawTar.Regular, "x", ""), ("b", RawTar.HardLink, "", "missing")));

        var e = ImportFails(archive);

        Assert.Contains("'missing'", e.Message, StringComparison.Ordinal);
        Assert.Contains("not earlier in the archive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_BadHeaderChecksum_IsAClearError()
    {
        var data = RawTar.Build(("a", RawTar.Regular, "x", ""), ("b", RawTar.Regular, "y", ""));
        data[1024 + 1] ^= 0x40; // the second header's name

        var e = ImportFails(Write("sum.tar", data));

        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("xz")]
    public void Import_TruncatedArchive_FailsAndKeepsThePreviousVersion(string compressor)
    {
        var src = _f.BuildTree();
        var archive = _f.PathOf("a.tar");
        FormatFixture.Run("tar", "--format=posix", "-cpf", archive, "-C", src, ".");
        if (compressor != "none")
        {
            FormatFixture.Run("bash", "-c", $"{compressor} -c < '{archive}' > '{archive}.c' && mv '{archive}.c' '{archive}'");
        }

        var first = _f.Images.Import("img", archive, "whole", null, CancellationToken.None);
        var bytes = File.ReadAllBytes(archive);
        var cut = Write("cut.tar", bytes[..(bytes.Length / 2)]);

        var e = Assert.ThrowsAny<StoreException>(() => _f.Images.Import("img", cut, "cut", null, CancellationToken.None));

        Assert.Matches("truncated|corrupt", e.Message);
        Assert.Equal(first.Id, _f.Repository.Refs.Head("img"));
        Assert.Single(_f.Repository.History("img"));
    }

    [Fact]
    public void Import_CorruptGzip_IsAClearError()
    {
        var archive = Write("a.tar", RawTar.Build(("a", RawTar.Regular, new string('x', 100_000), "")));
        FormatFixture.Run("gzip", "-n", archive);
        var bytes = File.ReadAllBytes(archive + ".gz");
        for (var i = 40; i < 60; i++)
        {
            bytes[i] ^= 0x5A;
        }

        var e = ImportFails(Write("bad.tar.gz", bytes));

        Assert.Contains("gzip", e.Message, StringComparison.Ordinal);
    }
}
