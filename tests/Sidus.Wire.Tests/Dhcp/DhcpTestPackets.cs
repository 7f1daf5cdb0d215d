using System.Text;
using Sidus.Wire.Dhcp;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>Hex-built packets shared by the codec and responder tests.</summary>
internal static class DhcpTestPackets
{
    /// <summary>A PXE DISCOVER from 52:54:00:12:34:56, xid 0x12345678, broadcast flag set, options 53=1,
    /// 55=[1,3,6], 60="PXEClient", 93=7, End.</summary>
    public const string PxeDiscoverHex =
        "01010600" + "12345678" + "0000" + "8000" + "00000000" + "00000000" + "00000000" + "00000000"
        + "525400123456" + "00000000000000000000"
        + Zeros64 + Zeros128
        + "63825363"
        + "350101" + "3703010306" + "3c09" + "505845436c69656e74" + "5d020007" + "ff";

    private const string Zeros64 =
        "0000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000";

    private const string Zeros128 = Zeros64 + Zeros64;

    public static byte[] PxeDiscover => Convert.FromHexString(PxeDiscoverHex);

    /// <summary>A client request built field by field.</summary>
    public static DhcpPacket Request(DhcpMessageType type, string mac, Action<DhcpPacket>? configure = null)
    {
        var packet = new DhcpPacket { Xid = 0xCAFE0001, Flags = DhcpConstants.BroadcastFlag };
        Convert.FromHexString(mac.Replace(":", "", StringComparison.Ordinal)).CopyTo(packet.Chaddr, 0);
        packet.Options.SetByte(DhcpOptionCode.MessageType, (byte)type);
        configure?.Invoke(packet);
        return packet;
    }

    public static void MakePxe(DhcpPacket packet, ushort arch)
    {
        packet.Options.SetString(DhcpOptionCode.VendorClassIdentifier, $"PXEClient:Arch:{arch:D5}:UNDI:002001");
        packet.Options.Set(DhcpOptionCode.ClientSystemArchitecture, [(byte)(arch >> 8), (byte)arch]);
    }

    public static void MakeIpxe(DhcpPacket packet) => packet.Options.Set(DhcpOptionCode.UserClass, Encoding.ASCII.GetBytes("iPXE"));
}
