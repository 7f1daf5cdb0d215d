using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpEncoderTests
{
    private static string Encode(Func<byte[], int> write)
    {
        var buffer = new byte[1024];
        var n = write(buffer);
        return Convert.ToHexStringLower(buffer, 0, n);
    }

    [Fact]
    public void WriteAck_Block_IsOpcodeFourThenBlockBigEndian() =>
        Assert.Equal("00041234", Encode(b => TftpEncoder.WriteAck(b, 0x1234)));

    [Fact]
    public void WriteData_Payload_FollowsHeader() =>
        Assert.Equal("0003ffffcafe", Encode(b => TftpEncoder.WriteData(b, 0xffff, [0xca, 0xfe])));

    [Fact]
    public void WriteError_Message_IsNulTerminatedAscii() =>
        Assert.Equal("00050001" + "66696c65206e6f7420666f756e64" + "00", Encode(b => TftpEncoder.WriteError(b, TftpErrorCode.FileNotFound, "file not found")));

    [Fact]
    public void WriteError_NonAsciiAndLongMessage_IsCleanedAndCut()
    {
        var hex = Encode(b => TftpEncoder.WriteError(b, TftpErrorCode.NotDefined, "é\n" + new string('x', 500)));

        Assert.StartsWith("000500003f3f7878", hex, StringComparison.Ordinal);
        Assert.Equal((TftpLimits.HeaderLength + TftpLimits.MaxErrorMessageLength + 1) * 2, hex.Length);
        Assert.EndsWith("00", hex, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteOptionAck_Options_AreNameValuePairs() =>
        Assert.Equal(
            "0006" + "626c6b73697a6500" + "3134363800" + "77696e646f7773697a6500" + "313600",
            Encode(b => TftpEncoder.WriteOptionAck(b, [new TftpOption("blksize", "1468"), new TftpOption("windowsize", "16")])));

    [Fact]
    public void WriteRequest_RoundTripsThroughDecoder()
    {
        var buffer = new byte[512];
        var n = TftpEncoder.WriteRequest(buffer, TftpOpcode.ReadRequest, "a/b"u8, "octet", [new TftpOption("tsize", "0")]);

        Assert.Equal("0001" + "612f6200" + "6f6374657400" + "7473697a6500" + "3000", Convert.ToHexStringLower(buffer, 0, n));
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(buffer.AsSpan(0, n), out var request, out _));
        Assert.Equal(0, request!.Options.TransferSize);
    }

    [Fact]
    public void WriteAck_BufferTooSmall_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => TftpEncoder.WriteAck(new byte[3], 1));
}
