using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes sidus.verity=ROOTHEX:SALTHEX:DATABLOCKS (also the server's export sidecar).</summary>
public sealed class VerityInfoTests
{
    private const string Root = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    private static readonly VerityInfo Example = new([.. Enumerable.Range(0, 32).Select(i => (byte)i)], [0xAB, 0xCD], 102400);

    [Fact]
    public void KernelArgument_Example_FrozenText() =>
        Assert.Equal(Root + ":abcd:102400", Example.KernelArgument);

    [Fact]
    public void TryParse_KernelArgument_RoundTrips()
    {
        Assert.True(VerityInfo.TryParse(Example.KernelArgument, out var parsed, out var problem), problem);
        Assert.Null(problem);
        Assert.Equal(Example, parsed);
    }

    [Theory]
    [InlineData("", "expected ROOTHEX:SALTHEX:DATABLOCKS, got 1 field(s)")]
    [InlineData("00:00", "expected ROOTHEX:SALTHEX:DATABLOCKS, got 2 field(s)")]
    [InlineData(Root + ":ab:1:2", "expected ROOTHEX:SALTHEX:DATABLOCKS, got 4 field(s)")]
    [InlineData("abc:00:1", "the root hash 'abc' is not 64 lower-case hex digits")]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e:ab:1", "the root hash '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e' is not 64 lower-case hex digits")]
    [InlineData("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F:ab:1", "the root hash '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F' is not 64 lower-case hex digits")]
    [InlineData(Root + ":abc:1", "the salt 'abc' is not lower-case hex of 1 to 256 bytes")]
    [InlineData(Root + ":0:5", "the salt '0' is not lower-case hex of 1 to 256 bytes")]
    [InlineData(Root + ":zz:5", "the salt 'zz' is not lower-case hex of 1 to 256 bytes")]
    [InlineData(Root + "::5", "the salt '' is not lower-case hex of 1 to 256 bytes")]
    [InlineData(Root + ":ab:0", "the data block count '0' is not a positive decimal number")]
    [InlineData(Root + ":ab:-1", "the data block count '-1' is not a positive decimal number")]
    [InlineData(Root + ":ab:", "the data block count '' is not a positive decimal number")]
    public void TryParse_Malformed_FalseAndSaysWhy(string text, string expected)
    {
        Assert.False(VerityInfo.TryParse(text, out var info, out var problem));
        Assert.Null(info);
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void TryParse_LongestSalt_Accepted()
    {
        var salt = new string('a', VerityInfo.MaxSaltLength * 2);
        Assert.True(VerityInfo.TryParse($"{Root}:{salt}:1", out var info, out _));
        Assert.Equal(VerityInfo.MaxSaltLength, info!.Salt.Length);
        Assert.False(VerityInfo.TryParse($"{Root}:{salt}aa:1", out _, out _));
    }
}
