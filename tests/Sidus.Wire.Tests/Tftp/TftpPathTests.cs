using System.Text;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpPathTests
{
    private static readonly TftpPathOptions Strict = new();
    private static readonly TftpPathOptions Lenient = new() { AllowRootedPaths = true, StripTrailingFF = true };

    [Theory]
    [InlineData("pxelinux.0", "pxelinux.0")]
    [InlineData("boot\\x86_64\\ipxe.efi", "boot/x86_64/ipxe.efi")]
    [InlineData("pxelinux.cfg//default", "pxelinux.cfg/default")]
    [InlineData("./a/./b", "a/b")]
    [InlineData("...", "...")]
    [InlineData("a..b/c", "a..b/c")]
    [InlineData("nodes/é.cfg", "nodes/é.cfg")]
    public void TryNormalize_RelativeName_GivesRootRelativePath(string requested, string expected)
    {
        Assert.True(TftpPath.TryNormalize(Encoding.UTF8.GetBytes(requested), Strict, out var path, out var problem), problem);
        Assert.Equal(expected, path);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..\\..\\etc\\passwd")]
    [InlineData("a/../../b")]
    [InlineData("a/..")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("\\etc\\passwd")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("a\tb")]
    public void TryNormalize_HostileName_IsRefused(string requested)
    {
        Assert.False(TftpPath.TryNormalize(Encoding.UTF8.GetBytes(requested), Strict, out _, out var problem));
        Assert.NotEmpty(problem);
    }

    [Fact]
    public void TryNormalize_EmbeddedNulOrInvalidUtf8_IsRefused()
    {
        Assert.False(TftpPath.TryNormalize("a\0b"u8, Strict, out _, out _));
        Assert.False(TftpPath.TryNormalize([0x61, 0xc3, 0x28], Strict, out _, out _));
    }

    [Fact]
    public void TryNormalize_RootedNameWhenAllowed_IsRootRelative()
    {
        Assert.True(TftpPath.TryNormalize("//boot/undionly.kpxe"u8, Lenient, out var path, out _));
        Assert.Equal("boot/undionly.kpxe", path);
        Assert.False(TftpPath.TryNormalize("/../etc/passwd"u8, Lenient, out _, out _));
    }

    [Fact]
    public void TryNormalize_TrailingFF_StrippedOnlyWhenConfigured()
    {
        byte[] name = [.. "undionly.kpxe"u8, 0xff, 0xff];

        Assert.True(TftpPath.TryNormalize(name, Lenient, out var path, out _));
        Assert.Equal("undionly.kpxe", path);
        Assert.False(TftpPath.TryNormalize(name, Strict, out _, out _));
    }

    [Fact]
    public void TryNormalize_OverLongName_IsRefused()
    {
        Assert.False(TftpPath.TryNormalize(Encoding.ASCII.GetBytes(new string('a', 256)), Strict, out _, out _));
        Assert.False(TftpPath.TryNormalize(Encoding.ASCII.GetBytes(string.Join('/', Enumerable.Repeat(new string('a', 100), 3))), Strict, out _, out _));
        Assert.True(TftpPath.TryNormalize(Encoding.ASCII.GetBytes(new string('a', 255)), Strict, out _, out _));
    }
}
