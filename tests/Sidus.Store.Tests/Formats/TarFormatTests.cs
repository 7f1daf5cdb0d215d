using Sidus.Store.Formats;

namespace Sidus.Store.Tests.Formats;

public sealed class TarFormatTests
{
    [Theory]
    [InlineData("0000644\0", 420)]
    [InlineData("  1234 \0", 668)]
    [InlineData("\0\0\0\0\0\0\0\0", 0)]
    public void TryParseNumber_Octal_ReadsValue(string field, long expected)
    {
        Assert.True(TarFormat.TryParseNumber(System.Text.Encoding.ASCII.GetBytes(field), out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void TryParseNumber_Base256_ReadsPositiveAndNegative()
    {
        Assert.True(TarFormat.TryParseNumber(Convert.FromHexString("800000000000000000000001"), out var one));
        Assert.Equal(1, one);
        Assert.True(TarFormat.TryParseNumber(Convert.FromHexString("80000000002dc6c0"), out var big));
        Assert.Equal(3_000_000, big);
        Assert.True(TarFormat.TryParseNumber(Convert.FromHexString("fffffffffffffffffffffffe"), out var negative));
        Assert.Equal(-2, negative);
    }

    [Theory]
    [InlineData("12a4\0")]
    [InlineData("81000000")]
    [InlineData("12 34\0")]
    public void TryParseNumber_Garbage_IsRejected(string hexOrText)
    {
        var field = hexOrText.Length == 8 && hexOrText.All(char.IsAsciiHexDigit) ? Convert.FromHexString(hexOrText) : System.Text.Encoding.ASCII.GetBytes(hexOrText);
        Assert.False(TarFormat.TryParseNumber(field, out _));
    }

    [Theory]
    [InlineData("1795383441.56539819", 1795383441L, 565398190u)]
    [InlineData("12", 12L, 0u)]
    [InlineData("-1.5", -2L, 500000000u)]
    [InlineData("1.1234567899", 1L, 123456789u)]
    public void TryParseTime_PaxTimes_GiveSecondsAndNanoseconds(string text, long seconds, uint nanoseconds)
    {
        Assert.True(PaxRecords.TryParseTime(System.Text.Encoding.ASCII.GetBytes(text), out var s, out var ns));
        Assert.Equal((seconds, nanoseconds), (s, ns));
    }

    [Theory]
    [InlineData(1795383441L, 565398190u, "1795383441.56539819")]
    [InlineData(-2L, 500000000u, "-1.5")]
    [InlineData(7L, 0u, "7")]
    public void FormatTime_RoundTripsWithParse(long seconds, uint nanoseconds, string expected)
    {
        Assert.Equal(expected, PaxRecords.FormatTime(seconds, nanoseconds));
    }

    [Fact]
    public void Append_RecordLength_CountsItsOwnDigits()
    {
        var w = new ByteWriter();
        PaxRecords.Append(w, "path", "a"); // " path=a\n" is 8 bytes, plus 1 digit = 9
        PaxRecords.Append(w, "path", new string('x', 93)); // 1+4+1+93+1 = 100, plus 3 digits = 103
        var text = System.Text.Encoding.ASCII.GetString(w.WrittenSpan);
        Assert.StartsWith("9 path=a\n103 path=", text, StringComparison.Ordinal);
        var records = PaxRecords.Decode(w.WrittenSpan, "test");
        Assert.Equal(2, records.Count);
        Assert.Equal(93, records[1].Value.Length);
    }

    [Fact]
    public void Decode_RecordLongerThanData_IsAnError()
    {
        Assert.Throws<TarFormatException>(() => PaxRecords.Decode("30 path=short\n"u8, "m"));
    }

    [Fact]
    public void PosixAcl_GnuTarText_GivesTheKernelsXattrBytes()
    {
        // getfattr -e hex of a file after `setfacl -m u:1234:rx,g:55:r`, and the text GNU tar wrote for it.
        const string text = "user::rw-\nuser:1234:r-x\ngroup::r--\ngroup:55:r--\nmask::r-x\nother::r--\n";
        var expected = Convert.FromHexString("0200000001000600ffffffff02000500d204000004000400ffffffff080004003700000010000500ffffffff20000400ffffffff");

        Assert.Equal(expected, PosixAcl.FromText(System.Text.Encoding.ASCII.GetBytes(text), isDefault: false, "m"));
        Assert.Equal(text, PosixAcl.ToText(expected));
    }

    [Fact]
    public void PosixAcl_MinimalAccessAcl_IsNoXattrButMinimalDefaultIs()
    {
        var minimal = "user::rwx\ngroup::r-x\nother::r-x\n"u8.ToArray();
        Assert.Null(PosixAcl.FromText(minimal, isDefault: false, "m"));
        Assert.NotNull(PosixAcl.FromText(minimal, isDefault: true, "m"));
    }

    [Fact]
    public void PosixAcl_NamedUser_IsAClearError()
    {
        var e = Assert.Throws<TarFormatException>(() => PosixAcl.FromText("user::rw-\nuser:daemon:r--\n"u8, isDefault: false, "'f'"));
        Assert.Contains("daemon", e.Message, StringComparison.Ordinal);
    }
}
