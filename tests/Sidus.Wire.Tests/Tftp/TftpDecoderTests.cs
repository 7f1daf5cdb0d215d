using System.Text;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

public class TftpDecoderTests
{
    // RRQ "pxelinux.0" octet, blksize 1468, tsize 0 (what a PXE ROM sends).
    private const string PxeRequestHex =
        "0001" + "7078656c696e75782e3000" + "6f6374657400" + "626c6b73697a6500" + "3134363800" + "7473697a6500" + "3000";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    /// <summary>Builds a request from NUL-separated text fields: "\0\x01" + fields joined by NUL + NUL.</summary>
    private static byte[] Request(ushort opcode, params string[] fields)
    {
        var body = Encoding.Latin1.GetBytes(string.Join('\0', fields) + "\0");
        return [(byte)(opcode >> 8), (byte)opcode, .. body];
    }

    [Fact]
    public void TryDecodeRequest_PxeRequest_DecodesNameModeAndOptions()
    {
        var status = TftpDecoder.TryDecodeRequest(Hex(PxeRequestHex), out var request, out _);

        Assert.Equal(TftpDecodeStatus.Done, status);
        Assert.NotNull(request);
        Assert.Equal(TftpOpcode.ReadRequest, request.Opcode);
        Assert.Equal("pxelinux.0"u8.ToArray(), request.FileName);
        Assert.Equal(TftpMode.Octet, request.Mode);
        Assert.Equal(new TftpRequestedOptions(1468, 0, null, null), request.Options);
        Assert.Empty(request.IgnoredOptions);
    }

    [Fact]
    public void TryDecodeRequest_EveryPrefix_IsIncompleteOrAShorterValidRequest()
    {
        var full = Hex(PxeRequestHex);
        for (var length = 0; length < full.Length; length++)
        {
            var status = TftpDecoder.TryDecodeRequest(full.AsSpan(0, length), out var request, out _);
            Assert.True(status != TftpDecodeStatus.Invalid, $"prefix of {length} bytes was Invalid");
            if (status == TftpDecodeStatus.Done)
            {
                // Only a cut exactly after the mode or after a whole option is itself a valid request.
                Assert.Contains(length, new[] { 19, 32, 40 });
                Assert.Equal("pxelinux.0"u8.ToArray(), request!.FileName);
            }
        }
    }

    [Fact]
    public void TryDecodeRequest_OptionNamesAndModeInAnyCase_AreAccepted()
    {
        var packet = Request(1, "boot/ipxe.efi", "OcTeT", "BLKSIZE", "1432", "TSize", "0", "WindowSize", "4", "Timeout", "3");

        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(packet, out var request, out _));
        Assert.Equal(new TftpRequestedOptions(1432, 0, 3, 4), request!.Options);
    }

    [Fact]
    public void TryDecodeRequest_UnknownOption_IsIgnoredNotGranted()
    {
        var packet = Request(1, "f", "octet", "multicast", "", "blksize", "512", "x-vendor", "1");

        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(packet, out var request, out _));
        Assert.Equal(new[] { "multicast", "x-vendor" }, request!.IgnoredOptions);
        Assert.Equal(new TftpRequestedOptions(512, null, null, null), request.Options);
    }

    [Fact]
    public void TryDecodeRequest_TrailingNulPadding_IsTolerated()
    {
        var packet = Hex("0001" + "6600" + "6f6374657400" + "000000");

        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(packet, out var request, out _));
        Assert.Equal("f"u8.ToArray(), request!.FileName);
    }

    [Fact]
    public void TryDecodeRequest_WriteRequest_DecodesAsWrite()
    {
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(Request(2, "upload", "netascii"), out var request, out _));
        Assert.Equal(TftpOpcode.WriteRequest, request!.Opcode);
        Assert.Equal(TftpMode.Netascii, request.Mode);
    }

    [Theory]
    [InlineData("blksize", "0")]
    [InlineData("blksize", "7")]
    [InlineData("blksize", "65465")]
    [InlineData("blksize", "99999999999")]
    [InlineData("blksize", "999999999999999999999999999999")]
    [InlineData("blksize", "-1")]
    [InlineData("blksize", "+512")]
    [InlineData("blksize", " 512")]
    [InlineData("blksize", "1e3")]
    [InlineData("blksize", "")]
    [InlineData("windowsize", "0")]
    [InlineData("windowsize", "65536")]
    [InlineData("timeout", "0")]
    [InlineData("timeout", "256")]
    [InlineData("tsize", "99999999999999999999")]
    [InlineData("tsize", "abc")]
    public void TryDecodeRequest_OptionOutOfRange_IsInvalidWithOptionError(string name, string value)
    {
        var status = TftpDecoder.TryDecodeRequest(Request(1, "f", "octet", name, value), out var request, out var problem);

        Assert.Equal(TftpDecodeStatus.Invalid, status);
        Assert.Null(request);
        Assert.Equal(TftpErrorCode.OptionNegotiationFailed, problem.ReplyCode);
    }

    [Fact]
    public void TryDecodeRequest_DuplicateOptionInOtherCase_IsInvalid()
    {
        var status = TftpDecoder.TryDecodeRequest(Request(1, "f", "octet", "blksize", "512", "BLKSIZE", "1024"), out _, out var problem);

        Assert.Equal(TftpDecodeStatus.Invalid, status);
        Assert.Contains("duplicate", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0001" + "00" + "6f6374657400")] // empty file name
    [InlineData("0001" + "610162" + "00" + "6f6374657400")] // control character in the name
    [InlineData("0001" + "617f" + "00" + "6f6374657400")] // DEL in the name
    [InlineData("0001" + "6600" + "62696e61727900")] // mode "binary"
    [InlineData("0001" + "6600" + "6f63746574ff00")] // mode with a non-ASCII byte
    [InlineData("0001" + "6600" + "6f6374657400" + "003100")] // empty option name
    [InlineData("0001" + "6600" + "6f6374657400" + "e900" + "3100")] // non-ASCII option name
    [InlineData("0001" + "6600" + "6f6374657400" + "6100" + "0900")] // control character in a value
    [InlineData("0003" + "0001")] // DATA is not a request
    [InlineData("0000" + "6600" + "6f6374657400")] // opcode 0
    [InlineData("ffff" + "6600" + "6f6374657400")] // opcode 65535
    public void TryDecodeRequest_MalformedRequest_IsInvalid(string hex)
    {
        Assert.Equal(TftpDecodeStatus.Invalid, TftpDecoder.TryDecodeRequest(Hex(hex), out var request, out _));
        Assert.Null(request);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("0001")]
    [InlineData("000166")] // name without NUL
    [InlineData("00016600")] // no mode
    [InlineData("00016600" + "6f63746574")] // mode without NUL
    [InlineData("00016600" + "6f6374657400" + "626c6b73697a6500")] // option without value
    [InlineData("00016600" + "6f6374657400" + "626c6b73697a650031343638")] // value without NUL
    public void TryDecodeRequest_TruncatedRequest_IsIncomplete(string hex)
    {
        Assert.Equal(TftpDecodeStatus.Incomplete, TftpDecoder.TryDecodeRequest(Hex(hex), out var request, out _));
        Assert.Null(request);
    }

    [Fact]
    public void TryDecodeRequest_LongerThan512Bytes_IsInvalid()
    {
        var packet = Request(1, new string('a', 400), "octet", "x-pad", new string('b', 100));
        Assert.True(packet.Length > TftpLimits.MaxRequestLength);

        Assert.Equal(TftpDecodeStatus.Invalid, TftpDecoder.TryDecodeRequest(packet, out _, out var problem));
        Assert.Equal(TftpErrorCode.IllegalOperation, problem.ReplyCode);
    }

    [Fact]
    public void TryDecodeRequest_Exactly512Bytes_IsAccepted()
    {
        // 2 opcode + name + NUL + "octet" + NUL = 512.
        var packet = Request(1, new string('a', 503), "octet");
        Assert.Equal(TftpLimits.MaxRequestLength, packet.Length);

        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeRequest(packet, out _, out _));
    }

    [Theory]
    [InlineData("00041234", TftpDecodeStatus.Done, 0x1234)]
    [InlineData("0004ffff", TftpDecodeStatus.Done, 0xffff)]
    [InlineData("000412", TftpDecodeStatus.Incomplete, 0)]
    [InlineData("0004123400", TftpDecodeStatus.Invalid, 0)]
    [InlineData("00031234", TftpDecodeStatus.Invalid, 0)]
    public void TryDecodeAck_KnownBytes_GiveBlockOrStatus(string hex, TftpDecodeStatus expected, int block)
    {
        Assert.Equal(expected, TftpDecoder.TryDecodeAck(Hex(hex), out var got));
        Assert.Equal(block, got);
    }

    [Fact]
    public void TryDecodeData_KnownBytes_GiveBlockAndPayload()
    {
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeData(Hex("00030001 cafe"), out var block, out var payload));
        Assert.Equal(1, block);
        Assert.Equal(new byte[] { 0xca, 0xfe }, payload.ToArray());
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeData(Hex("00030002"), out _, out var empty));
        Assert.True(empty.IsEmpty);
    }

    [Fact]
    public void TryDecodeError_KnownBytes_GiveCodeAndPrintableMessage()
    {
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeError(Hex("00050008 61620763 00"), out var code, out var message));
        Assert.Equal(TftpErrorCode.OptionNegotiationFailed, code);
        Assert.Equal("ab\\x07c", message);
        Assert.Equal(TftpDecodeStatus.Incomplete, TftpDecoder.TryDecodeError(Hex("00050001 6162"), out _, out _));
    }

    [Fact]
    public void TryDecodeOptionAck_KnownBytes_GiveOptions()
    {
        var status = TftpDecoder.TryDecodeOptionAck(Hex("0006 626c6b73697a6500 3134363800 7473697a6500 3130303000"), out var options);

        Assert.Equal(TftpDecodeStatus.Done, status);
        Assert.Equal(new[] { new TftpOption("blksize", "1468"), new TftpOption("tsize", "1000") }, options);
    }
}
