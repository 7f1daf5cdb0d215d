using Sidus.Wire.Nbd;

namespace Sidus.Wire.Tests.Nbd;

/// <summary>The handshake and transmission codec against bytes written out by hand from the NBD protocol document.</summary>
public sealed class NbdCodecTests
{
    private const string ReplyMagic = "0003E889045565A9";

    [Fact]
    public void WriteGreeting_FixedNewstyleNoZeroes_ExactBytes()
    {
        var buffer = new byte[NbdProtocol.GreetingLength];
        var n = NbdHandshake.WriteGreeting(buffer, NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes);
        Assert.Equal("4E42444D41474943" + "49484156454F5054" + "0003", Convert.ToHexString(buffer.AsSpan(0, n)));
    }

    [Theory]
    [InlineData("00000001", NbdDecodeStatus.Done)]
    [InlineData("00000003", NbdDecodeStatus.Done)]
    [InlineData("00000000", NbdDecodeStatus.Invalid)]
    [InlineData("00000002", NbdDecodeStatus.Invalid)]
    [InlineData("00000005", NbdDecodeStatus.Invalid)]
    [InlineData("80000001", NbdDecodeStatus.Invalid)]
    public void TryReadClientFlags_Values_Status(string hex, NbdDecodeStatus expected)
    {
        var bytes = Convert.FromHexString(hex);
        var status = NbdHandshake.TryReadClientFlags(bytes, out _, out var problem);
        Assert.Equal(expected, status);
        Assert.Equal(expected == NbdDecodeStatus.Invalid, problem is not null);
    }

    [Fact]
    public void TryReadClientFlags_EveryPrefix_Incomplete()
    {
        var bytes = Convert.FromHexString("00000003");
        for (var i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(NbdDecodeStatus.Incomplete, NbdHandshake.TryReadClientFlags(bytes.AsSpan(0, i), out _, out _));
        }
    }

    [Fact]
    public void TryReadOptionHeader_Go_DecodesOptionAndLength()
    {
        var bytes = Convert.FromHexString("49484156454F5054" + "00000007" + "0000000A");
        Assert.Equal(NbdDecodeStatus.Done, NbdHandshake.TryReadOptionHeader(bytes, out var header, out _));
        Assert.Equal(new NbdOptionHeader(NbdOption.Go, 10), header);
        for (var i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(NbdDecodeStatus.Incomplete, NbdHandshake.TryReadOptionHeader(bytes.AsSpan(0, i), out _, out _));
        }
    }

    [Fact]
    public void TryReadOptionHeader_BadMagic_Invalid()
    {
        var bytes = Convert.FromHexString("49484156454F5055" + "00000007" + "00000000");
        Assert.Equal(NbdDecodeStatus.Invalid, NbdHandshake.TryReadOptionHeader(bytes, out _, out var problem));
        Assert.Contains("49484156454f5055", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadInfoRequest_NameAndBlockSize_Decoded()
    {
        var bytes = Convert.FromHexString("00000002" + "6162" + "0002" + "0003" + "0001");
        Assert.Equal(NbdDecodeStatus.Done, NbdHandshake.TryReadInfoRequest(bytes, out var request, out _));
        Assert.Equal("ab", request!.Name);
        Assert.Equal([NbdInfoType.BlockSize, NbdInfoType.Name], request.Items);
    }

    [Fact]
    public void TryReadInfoRequest_EmptyNameNoItems_Decoded()
    {
        Assert.Equal(NbdDecodeStatus.Done, NbdHandshake.TryReadInfoRequest(Convert.FromHexString("00000000" + "0000"), out var request, out _));
        Assert.Equal(string.Empty, request!.Name);
        Assert.Empty(request.Items);
    }

    [Theory]
    [InlineData("")]
    [InlineData("000000")]
    [InlineData("00000009" + "6162" + "0000")]
    [InlineData("FFFFFFFF" + "6162" + "0000")]
    [InlineData("00000002" + "6162" + "0002" + "0003")]
    [InlineData("00000002" + "6162" + "0000" + "00")]
    [InlineData("00000001" + "FF" + "0000")]
    public void TryReadInfoRequest_Malformed_Invalid(string hex)
    {
        Assert.Equal(NbdDecodeStatus.Invalid, NbdHandshake.TryReadInfoRequest(Convert.FromHexString(hex), out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void TryReadExportName_TooLongOrNotUtf8_Invalid()
    {
        Assert.Equal(NbdDecodeStatus.Done, NbdHandshake.TryReadExportName("ab"u8, out var name, out _));
        Assert.Equal("ab", name);
        Assert.Equal(NbdDecodeStatus.Invalid, NbdHandshake.TryReadExportName(new byte[NbdProtocol.MaxStringLength + 1], out _, out _));
        Assert.Equal(NbdDecodeStatus.Invalid, NbdHandshake.TryReadExportName(Convert.FromHexString("C3"), out _, out _));
    }

    [Fact]
    public void WriteReply_AckAndError_ExactBytes()
    {
        var buffer = new byte[64];
        var n = NbdHandshake.WriteReply(buffer, NbdOption.Go, NbdReplyType.Ack);
        Assert.Equal(ReplyMagic + "00000007" + "00000001" + "00000000", Convert.ToHexString(buffer.AsSpan(0, n)));
        n = NbdHandshake.WriteReply(buffer, NbdOption.Info, NbdReplyType.ErrorUnknown, "x");
        Assert.Equal(ReplyMagic + "00000006" + "80000006" + "00000001" + "78", Convert.ToHexString(buffer.AsSpan(0, n)));
        Assert.Equal(n, NbdHandshake.ReplyLength("x"));
    }

    [Fact]
    public void WriteServerEntry_NameAndDescription_ExactBytes()
    {
        var buffer = new byte[64];
        var n = NbdHandshake.WriteServerEntry(buffer, "ab", "c");
        Assert.Equal(ReplyMagic + "00000003" + "00000002" + "00000007" + "00000002" + "6162" + "63", Convert.ToHexString(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void WriteInfo_ExportBlockSizeName_ExactBytes()
    {
        var buffer = new byte[64];
        var flags = NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.ReadOnly | NbdTransmissionFlags.SendFlush | NbdTransmissionFlags.CanMultiConn;
        var n = NbdHandshake.WriteInfoExport(buffer, NbdOption.Go, 0x1000, flags);
        Assert.Equal(ReplyMagic + "00000007" + "00000003" + "0000000C" + "0000" + "0000000000001000" + "0107", Convert.ToHexString(buffer.AsSpan(0, n)));
        n = NbdHandshake.WriteInfoBlockSize(buffer, NbdOption.Info, 1, 4096, 0x2000000);
        Assert.Equal(ReplyMagic + "00000006" + "00000003" + "0000000E" + "0003" + "00000001" + "00001000" + "02000000", Convert.ToHexString(buffer.AsSpan(0, n)));
        n = NbdHandshake.WriteInfoText(buffer, NbdOption.Go, NbdInfoType.Name, "ab");
        Assert.Equal(ReplyMagic + "00000007" + "00000003" + "00000004" + "0001" + "6162", Convert.ToHexString(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void WriteExportNameReply_WithAndWithoutZeroes_ExactBytes()
    {
        var buffer = new byte[200];
        Array.Fill(buffer, (byte)0xAA);
        var n = NbdHandshake.WriteExportNameReply(buffer, 0x0102030405060708, NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.ReadOnly, noZeroes: true);
        Assert.Equal("0102030405060708" + "0003", Convert.ToHexString(buffer.AsSpan(0, n)));
        n = NbdHandshake.WriteExportNameReply(buffer, 5, NbdTransmissionFlags.HasFlags, noZeroes: false);
        Assert.Equal(134, n);
        Assert.Equal("0000000000000005" + "0001" + new string('0', 248), Convert.ToHexString(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void TryReadRequest_Read_Decoded_EveryPrefixIncomplete()
    {
        var bytes = Convert.FromHexString("25609513" + "0001" + "0000" + "0102030405060708" + "0000000000001000" + "00000200");
        Assert.Equal(NbdDecodeStatus.Done, NbdTransmission.TryReadRequest(bytes, out var request, out _));
        Assert.Equal(new NbdRequest(NbdCommandFlags.Fua, NbdCommand.Read, 0x0102030405060708, 0x1000, 0x200), request);
        for (var i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(NbdDecodeStatus.Incomplete, NbdTransmission.TryReadRequest(bytes.AsSpan(0, i), out _, out _));
        }

        var written = new byte[NbdProtocol.RequestLength];
        NbdTransmission.WriteRequest(written, request);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void TryReadRequest_BadMagic_Invalid()
    {
        var bytes = Convert.FromHexString("67446698" + "0000" + "0000" + "0000000000000000" + "0000000000000000" + "00000000");
        Assert.Equal(NbdDecodeStatus.Invalid, NbdTransmission.TryReadRequest(bytes, out _, out var problem));
        Assert.Contains("67446698", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteSimpleReply_Eperm_ExactBytes()
    {
        var buffer = new byte[NbdProtocol.SimpleReplyLength];
        NbdTransmission.WriteSimpleReply(buffer, NbdError.NotPermitted, 0x0102030405060708);
        Assert.Equal("67446698" + "00000001" + "0102030405060708", Convert.ToHexString(buffer));
    }

    [Theory]
    [InlineData(NbdCommand.Read, 0, 4096, NbdError.None)]
    [InlineData(NbdCommand.Read, 4095, 1, NbdError.None)]
    [InlineData(NbdCommand.Read, 4095, 2, NbdError.Invalid)]
    [InlineData(NbdCommand.Read, 4096, 1, NbdError.Invalid)]
    [InlineData(NbdCommand.Read, ulong.MaxValue, 1, NbdError.Invalid)]
    [InlineData(NbdCommand.Read, 0, 0, NbdError.Invalid)]
    [InlineData(NbdCommand.Flush, 0, 0, NbdError.None)]
    [InlineData(NbdCommand.Write, 0, 512, NbdError.NotPermitted)]
    [InlineData(NbdCommand.Trim, 0, 512, NbdError.NotPermitted)]
    [InlineData(NbdCommand.WriteZeroes, 0, 512, NbdError.NotPermitted)]
    [InlineData(NbdCommand.BlockStatus, 0, 512, NbdError.Invalid)]
    [InlineData((NbdCommand)99, 0, 512, NbdError.Invalid)]
    public void Check_ReadOnlyExportOf4096_Answer(NbdCommand command, ulong offset, uint length, NbdError expected) =>
        Assert.Equal(expected, NbdTransmission.Check(new NbdRequest(NbdCommandFlags.None, command, 1, offset, length), 4096));

    [Fact]
    public void Check_ReadLongerThanMaximum_Invalid() =>
        Assert.Equal(NbdError.Invalid, NbdTransmission.Check(new NbdRequest(NbdCommandFlags.None, NbdCommand.Read, 1, 0, NbdProtocol.MaxRequestLength + 1u), ulong.MaxValue));

    [Fact]
    public void ProtocolValues_Frozen()
    {
        Assert.Equal(0x0107, (int)NbdConnection.ExportFlags);
        Assert.Equal(0x80000009u, (uint)NbdReplyType.ErrorTooBig);
        Assert.Equal(10809, NbdProtocol.DefaultPort);
        Assert.Equal(1u, (uint)NbdError.NotPermitted);
        Assert.Equal(22u, (uint)NbdError.Invalid);
    }
}
