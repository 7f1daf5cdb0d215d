using System.Security.Cryptography;
using System.Text;
using Sidus.Agent.Fetch;
using Sidus.Agent.Modules;

namespace Sidus.Agent.Tests;

/// <summary>The agent's own SHA-256 and alias matcher, against references and exact inputs (the manifest reader's tests are in Sidus.Wire.Tests).</summary>
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

    [Fact]
    public void Sha256_InPiecesOfEveryShape_MatchesPlatform()
    {
        var data = new byte[1000];
        new Random(11).NextBytes(data);
        var random = new Random(12);
        for (var round = 0; round < 200; round++)
        {
            var length = random.Next(data.Length + 1);
            using var hash = new Sha256.Incremental();
            for (var at = 0; at < length;)
            {
                var piece = Math.Min(length - at, random.Next(0, 150));
                hash.Append(data.AsSpan(at, piece));
                at += piece;
            }

            Assert.Equal(SHA256.HashData(data.AsSpan(0, length)), hash.Finish());
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
}
