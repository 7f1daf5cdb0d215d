using Sidus.Agent.Boot;
using Sidus.Agent.Network;
using Sidus.Wire.Nbd;
using Sidus.Linux;

namespace Sidus.Agent.Tests;

/// <summary>The shared-mode wire encodings of the agent (NBD handshake, generic netlink, nbd family) in exact bytes.</summary>
public sealed class SharedAgentCodeTests
{
    private const string Greeting = "4E42444D41474943" + "49484156454F5054" + "0003";

    [Fact]
    public void TryDecodeGreeting_FixedNewstyleWithNoZeroes_ReturnsFlags()
    {
        Assert.True(NbdClientCodec.TryDecodeGreeting(Convert.FromHexString(Greeting), out var flags));
        Assert.Equal(NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes, flags);
    }

    [Fact]
    public void TryDecodeGreeting_EveryPrefix_Incomplete()
    {
        var bytes = Convert.FromHexString(Greeting);
        for (var n = 0; n < bytes.Length; n++)
        {
            Assert.False(NbdClientCodec.TryDecodeGreeting(bytes.AsSpan(0, n), out _));
        }
    }

    [Theory]
    [InlineData("4E42444D41474944" + "49484156454F5054" + "0003", "NBDMAGIC")]
    [InlineData("4E42444D41474943" + "0000420281861253" + "0000", "oldstyle")]
    [InlineData("4E42444D41474943" + "49484156454F5054" + "0002", "fixed newstyle")]
    public void TryDecodeGreeting_Wrong_ThrowsWithReason(string hex, string reason)
    {
        var e = Assert.Throws<NbdProtocolException>(() => NbdClientCodec.TryDecodeGreeting(Convert.FromHexString(hex), out _));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, "00000003")]
    [InlineData(1, "00000001")]
    public void EncodeClientFlags_ServerFlags_NoZeroesOnlyWhenOffered(ushort server, string hex)
    {
        var b = new byte[4];
        Assert.Equal(4, NbdClientCodec.EncodeClientFlags((NbdHandshakeFlags)server, b));
        Assert.Equal(hex, Convert.ToHexString(b));
    }

    [Fact]
    public void EncodeGo_ExportName_ExactBytes()
    {
        var b = new byte[NbdClientCodec.GoLength("abc")];
        Assert.Equal(25, NbdClientCodec.EncodeGo("abc", b));
        Assert.Equal("49484156454F5054" + "00000007" + "00000009" + "00000003" + "616263" + "0000", Convert.ToHexString(b));
    }

    [Fact]
    public void EncodeExportName_ExportName_ExactBytes()
    {
        var b = new byte[NbdClientCodec.ExportNameLength("abc")];
        Assert.Equal(19, NbdClientCodec.EncodeExportName("abc", b));
        Assert.Equal("49484156454F5054" + "00000001" + "00000003" + "616263", Convert.ToHexString(b));
    }

    [Fact]
    public void EncodeGo_EmptyOrTooLongName_Refused()
    {
        Assert.Throws<ArgumentException>(() => NbdClientCodec.GoLength(string.Empty));
        Assert.Throws<ArgumentException>(() => NbdClientCodec.GoLength(new string('a', NbdProtocol.MaxStringLength + 1)));
    }

    [Fact]
    public void TryDecodeReplyHeader_InfoReply_TypeAndLength()
    {
        var header = Convert.FromHexString("0003E889045565A9" + "00000007" + "00000003" + "0000000C");
        for (var n = 0; n < header.Length; n++)
        {
            Assert.False(NbdClientCodec.TryDecodeReplyHeader(header.AsSpan(0, n), NbdOption.Go, out _, out _));
        }

        Assert.True(NbdClientCodec.TryDecodeReplyHeader(header, NbdOption.Go, out var type, out var length));
        Assert.Equal(NbdReplyType.Info, type);
        Assert.Equal(12, length);
    }

    [Theory]
    [InlineData("0003E889045565A8" + "00000007" + "00000001" + "00000000", "magic")]
    [InlineData("0003E889045565A9" + "00000001" + "00000001" + "00000000", "option 1")]
    [InlineData("0003E889045565A9" + "00000007" + "00000003" + "7FFFFFFF", "larger")]
    public void TryDecodeReplyHeader_Wrong_ThrowsWithReason(string hex, string reason)
    {
        var e = Assert.Throws<NbdProtocolException>(() => NbdClientCodec.TryDecodeReplyHeader(Convert.FromHexString(hex), NbdOption.Go, out _, out _));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecodeExportInfo_ExportBlock_SizeAndFlags()
    {
        Assert.True(NbdClientCodec.TryDecodeExportInfo(Convert.FromHexString("0000" + "0000000018600000" + "0107"), out var size, out var flags));
        Assert.Equal(0x18600000ul, size);
        Assert.Equal(NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.ReadOnly | NbdTransmissionFlags.SendFlush | NbdTransmissionFlags.CanMultiConn, flags);
        Assert.False(NbdClientCodec.TryDecodeExportInfo(Convert.FromHexString("0003" + "00000200" + "00001000" + "02000000"), out _, out _));
        Assert.Throws<NbdProtocolException>(() => NbdClientCodec.TryDecodeExportInfo(Convert.FromHexString("0000" + "0000000018600000"), out _, out _));
    }

    [Fact]
    public void TryDecodeExportNameReply_EveryPrefix_IncompleteThenSize()
    {
        var reply = Convert.FromHexString("0000000000100000" + "0003");
        for (var n = 0; n < reply.Length; n++)
        {
            Assert.False(NbdClientCodec.TryDecodeExportNameReply(reply.AsSpan(0, n), out _, out _));
        }

        Assert.True(NbdClientCodec.TryDecodeExportNameReply(reply, out var size, out var flags));
        Assert.Equal(0x100000ul, size);
        Assert.Equal(NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.ReadOnly, flags);
    }

    [Fact]
    public void EncodeGetFamily_Nbd_ExactBytes()
    {
        var b = new byte[64];
        var n = GenericNetlink.EncodeGetFamily("nbd", 1, b);
        // nlmsghdr (len 28, GENL_ID_CTRL, REQUEST|ACK, seq 1, pid 0), genlmsghdr (GETFAMILY, v1), FAMILY_NAME "nbd\0".
        Assert.Equal("1C000000" + "1000" + "0500" + "01000000" + "00000000" + "03010000" + "08000200" + "6E626400", Convert.ToHexString(b, 0, n));
    }

    [Fact]
    public void DecodeFamilyId_ControllerAnswer_Id()
    {
        var payload = Convert.FromHexString("01020000" + "08000200" + "6E626400" + "06000100" + "1A000000" + "08000300" + "01000000");
        Assert.Equal(0x1A, GenericNetlink.DecodeFamilyId(payload));
        Assert.Throws<InvalidDataException>(() => GenericNetlink.DecodeFamilyId(Convert.FromHexString("01020000" + "08000200" + "6E626400")));
        Assert.Throws<InvalidDataException>(() => GenericNetlink.DecodeFamilyId(Convert.FromHexString("01020000" + "40000100" + "1A000000")));
    }

    [Fact]
    public void EncodeConnect_KernelPicksIndex_ExactBytes()
    {
        var b = new byte[160];
        var n = NbdNetlink.EncodeConnect(0x1A, 7, new NbdConnectRequest(null, 0x18600000, 4096, 0, 3600, 0x0107, 5), b);
        Assert.Equal(
            "60000000" + "1A00" + "0500" + "07000000" + "00000000" + // nlmsghdr: 96 bytes, family 0x1a, REQUEST|ACK, seq 7
            "01010000" + // NBD_CMD_CONNECT, version 1
            "0C000200" + "0000601800000000" + // SIZE_BYTES
            "0C000300" + "0010000000000000" + // BLOCK_SIZE_BYTES 4096
            "0C000400" + "0000000000000000" + // TIMEOUT 0: never
            "0C000800" + "100E000000000000" + // DEAD_CONN_TIMEOUT 3600
            "0C000500" + "0701000000000000" + // SERVER_FLAGS
            "10000780" + "0C000180" + "08000100" + "05000000", // SOCKETS { SOCK_ITEM { SOCK_FD 5 } }, nested flag set
            Convert.ToHexString(b, 0, n));
    }

    [Fact]
    public void EncodeConnect_GivenIndex_IndexAttributeFirst()
    {
        var b = new byte[160];
        var n = NbdNetlink.EncodeConnect(0x1A, 7, new NbdConnectRequest(3, 4096, 4096, 0, 0, 0, 9), b);
        Assert.Equal(104, n);
        Assert.Equal("08000100" + "03000000", Convert.ToHexString(b, 20, 8));
    }

    [Fact]
    public void DecodeIndex_ConnectAnswer_Index()
    {
        Assert.Equal(2, NbdNetlink.DecodeIndex(Convert.FromHexString("01010000" + "08000100" + "02000000")));
        Assert.Throws<InvalidDataException>(() => NbdNetlink.DecodeIndex(Convert.FromHexString("01010000")));
    }

    [Fact]
    public void TryReadMessage_LengthBeyondDatagram_Invalid()
    {
        var datagram = Convert.FromHexString("40000000" + "0200" + "0000" + "01000000" + "00000000" + "00000000");
        Assert.Throws<InvalidDataException>(() => NetlinkReader.TryReadMessage(datagram, out _, out _, out _, out _));
        Assert.False(NetlinkReader.TryReadMessage(datagram.AsSpan(0, 15), out _, out _, out _, out _));
    }

    [Fact]
    public void ResolveFamily_ControllerOfThisKernel_IsGenlIdCtrl()
    {
        // The real kernel answers: the controller resolves itself to its fixed id.
        using var socket = NetlinkSocket.OpenGeneric();
        Assert.Equal(GenericNetlink.GENL_ID_CTRL, GenericNetlink.ResolveFamily(socket, "nlctrl"));
        var e = Assert.Throws<LinuxException>(() => GenericNetlink.ResolveFamily(socket, "sidus-nofam"));
        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void Identify_Signatures_NamedAndOnlyZeroesBlank()
    {
        var blank = new byte[DiskSignature.ProbeLength];
        Assert.Equal(DiskContentKind.Blank, DiskSignature.Identify(blank).Kind);
        Assert.Equal(DiskContentKind.Ext, DiskSignature.Identify(With(1080, 0x53, 0xEF)).Kind);
        Assert.Contains("XFS", DiskSignature.Identify(With(0, "XFSB"u8.ToArray())).Description, StringComparison.Ordinal);
        Assert.Contains("btrfs", DiskSignature.Identify(With(0x10040, "_BHRfS_M"u8.ToArray())).Description, StringComparison.Ordinal);
        Assert.Contains("swap", DiskSignature.Identify(With(4086, "SWAPSPACE2"u8.ToArray())).Description, StringComparison.Ordinal);
        Assert.Contains("GPT", DiskSignature.Identify(With(512, "EFI PART"u8.ToArray())).Description, StringComparison.Ordinal);
        Assert.Contains("MBR", DiskSignature.Identify(With(510, 0x55, 0xAA)).Description, StringComparison.Ordinal);
        Assert.Contains("LUKS", DiskSignature.Identify(With(0, 0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE)).Description, StringComparison.Ordinal);
        Assert.Contains("LVM", DiskSignature.Identify(With(512, "LABELONE"u8.ToArray())).Description, StringComparison.Ordinal);
        Assert.Contains("RAID", DiskSignature.Identify(With(4096, 0xFC, 0x4E, 0x2B, 0xA9)).Description, StringComparison.Ordinal);
        var unknown = DiskSignature.Identify(With(100_000, 1));
        Assert.Equal(DiskContentKind.Other, unknown.Kind);
        Assert.Contains("unrecognised", unknown.Description, StringComparison.Ordinal);
        Assert.Equal(DiskContentKind.Blank, DiskSignature.Identify(new byte[512]).Kind);
    }

    [Theory]
    [InlineData("tmpfs", true, null)]
    [InlineData("disk:/dev/vdb", true, "/dev/vdb")]
    [InlineData("disk:/dev/disk/by-id/virtio-x", true, "/dev/disk/by-id/virtio-x")]
    [InlineData("disk:/dev/", false, null)]
    [InlineData("disk:/etc/passwd", false, null)]
    [InlineData("disk:/dev/../etc/shadow", false, null)]
    [InlineData("nfs", false, null)]
    public void ParseOverlay_Values_OnlyTmpfsOrDevices(string text, bool ok, string? device)
    {
        Assert.Equal(ok, OverlayDisk.ParseOverlay(text, out var parsed));
        Assert.Equal(device, parsed);
    }

    [Theory]
    [InlineData("e2e-debian", "e2e-debian")]
    [InlineData("../etc", ".._etc")]
    [InlineData("..", "_..")]
    [InlineData("a/b c", "a_b_c")]
    public void SafeName_HostileNames_OneDirectoryLevel(string image, string expected) =>
        Assert.Equal(expected, OverlayDisk.SafeName(image));

    private static byte[] With(int offset, params byte[] bytes)
    {
        var data = new byte[DiskSignature.ProbeLength];
        bytes.CopyTo(data, offset);
        return data;
    }
}
