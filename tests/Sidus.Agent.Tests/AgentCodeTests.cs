using System.Security.Cryptography;
using System.Text;
using Sidus.Agent.Fetch;
using Sidus.Agent.Modules;

namespace Sidus.Agent.Tests;

/// <summary>The agent's own SHA-256, alias matcher and manifest parser, against references and exact inputs.</summary>
public sealed class AgentCodeTests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Sha256_KnownVectors_Match(string text, string hex) =>
        Assert.Equal(hex, Convert.ToHexStringLower(Sha256.Hash(Encoding.ASCII.GetBytes(text))));

    [Fact]
    public void Sha256_EveryLengthAroundBlockEdges_MatchesPlatform()
    {
        var data = new byte[300];
        new Random(7).NextBytes(data);
        for (var n = 0; n <= data.Length; n++)
        {
            Assert.Equal(SHA256.HashData(data.AsSpan(0, n)), Sha256.Hash(data.AsSpan(0, n)));
        }
    }

    [Theory]
    [InlineData("pci:v00001AF4d00001000sv*sd*bc*sc*i*", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", true)]
    [InlineData("pci:v00001AF4d00001000sv*sd*bc*sc*i*", "pci:v00001AF4d00001041sv00001AF4sd00000001bc02sc00i00", false)]
    [InlineData("virtio:d00000001v*", "virtio:d00000001v00001AF4", true)]
    [InlineData("pci:v*d*sv*sd*bc01sc08i02*", "pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02", true)]
    [InlineData("acpi*:PNP0[Aa]0[0-9]:*", "acpi:PNP0a03:", true)]
    [InlineData("acpi*:PNP0[!Aa]0[0-9]:*", "acpi:PNP0a03:", false)]
    public void Glob_ModaliasPatterns_MatchAsFnmatch(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Glob.Matches(pattern, text));

    [Fact]
    public void ManifestParser_EncodedNamesAndSparseFiles_Decoded()
    {
        var text = "sidus-manifest 2\n" +
                   "d 755 0 0 1 0 0 - 0 0 0 . - -\n" +
                   "f 4755 0 0 1700000000 5 10 " + new string('a', 64) + " 0 0 0 bin/a%20b%25%FF 0:2,8:2 security.capability=0100000200200000,user.a%2Cb%3D=\n" +
                   "l 777 0 0 1 0 0 - 0 0 0 lib usr/lib -\n";
        var entries = ManifestParser.Parse(text);
        Assert.Equal(3, entries.Count);
        Assert.Empty(entries[0].Xattrs);
        Assert.Equal(2, entries[1].Xattrs.Count);
        Assert.Equal("security.capability", Encoding.ASCII.GetString(entries[1].Xattrs[0].Key));
        Assert.Equal(new byte[] { 1, 0, 0, 2, 0, 0x20, 0, 0 }, entries[1].Xattrs[0].Value);
        Assert.Equal("user.a,b=", Encoding.ASCII.GetString(entries[1].Xattrs[1].Key));
        Assert.Empty(entries[1].Xattrs[1].Value);
        Assert.Equal(0x9EDu, entries[1].Mode);
        Assert.Equal(new byte[] { (byte)'b', (byte)'i', (byte)'n', (byte)'/', (byte)'a', 0x20, (byte)'b', (byte)'%', 0xFF }, entries[1].Path);
        Assert.Equal("0:2,8:2", Encoding.ASCII.GetString(entries[1].Target!));
        Assert.Equal("usr/lib", Encoding.ASCII.GetString(entries[2].Target!));
    }

    [Theory]
    [InlineData("not-a-manifest\n")]
    [InlineData("sidus-manifest 1\nd 755 0 0 1 0 0 - 0 0 0 . -\n")]
    [InlineData("sidus-manifest 2\nd 755 0 0\n")]
    [InlineData("sidus-manifest 2\nd 799 0 0 1 0 0 - 0 0 0 . - -\n")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 zz 0 0 0 a - -\n")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a% - -\n")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a - =00\n")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a - user.x=0g\n")]
    public void ManifestParser_Malformed_RefusedWithReason(string text) =>
        Assert.Throws<InvalidDataException>(() => ManifestParser.Parse(text));
}
