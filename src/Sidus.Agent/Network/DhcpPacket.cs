using System.Buffers.Binary;
using System.Net;

namespace Sidus.Agent.Network;

/// <summary>
/// The few DHCP messages a client sends and reads (RFC 2131/2132): BOOTP header, magic cookie, options.
/// Encode writes DISCOVER/REQUEST; Decode reads OFFER/ACK/NAK and returns false for anything not meant for us
/// or malformed (a client drops such packets and keeps listening).
/// </summary>
internal static class DhcpPacket
{
    public const int HeaderLength = 236;
    public const int MinimumLength = 300;
    public const uint MagicCookie = 0x63825363;
    public const byte Discover = 1, Offer = 2, Request = 3, Ack = 5, Nak = 6;
    private const int OpOffset = 0, XidOffset = 4, FlagsOffset = 10, YiaddrOffset = 16, ChaddrOffset = 28;
    private const ushort BroadcastFlag = 0x8000;
    private const byte OptPad = 0, OptSubnetMask = 1, OptRouter = 3, OptDns = 6, OptRequestedIp = 50, OptLeaseTime = 51,
        OptMessageType = 53, OptServerId = 54, OptParameterList = 55, OptClientId = 61, OptVendorClass = 60, OptEnd = 255;

    public static int Encode(Span<byte> buffer, byte type, uint xid, ReadOnlySpan<byte> mac, IPAddress? requested, IPAddress? server)
    {
        buffer[..MinimumLength].Clear();
        buffer[OpOffset] = 1;
        buffer[1] = 1; // Ethernet
        buffer[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[XidOffset..], xid);
        // The broadcast flag makes the server broadcast its answer: an interface with no address yet still gets it.
        BinaryPrimitives.WriteUInt16BigEndian(buffer[FlagsOffset..], BroadcastFlag);
        mac.CopyTo(buffer[ChaddrOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[HeaderLength..], MagicCookie);
        var at = HeaderLength + 4;
        buffer[at++] = OptMessageType;
        buffer[at++] = 1;
        buffer[at++] = type;
        buffer[at++] = OptClientId;
        buffer[at++] = 7;
        buffer[at++] = 1;
        mac.CopyTo(buffer[at..]);
        at += 6;
        if (requested is not null)
        {
            at = Address(buffer, at, OptRequestedIp, requested);
        }

        if (server is not null)
        {
            at = Address(buffer, at, OptServerId, server);
        }

        ReadOnlySpan<byte> parameters = [OptSubnetMask, OptRouter, OptDns, OptLeaseTime, OptServerId];
        buffer[at++] = OptParameterList;
        buffer[at++] = (byte)parameters.Length;
        parameters.CopyTo(buffer[at..]);
        at += parameters.Length;
        ReadOnlySpan<byte> vendor = "sidus-agent"u8;
        buffer[at++] = OptVendorClass;
        buffer[at++] = (byte)vendor.Length;
        vendor.CopyTo(buffer[at..]);
        at += vendor.Length;
        buffer[at++] = OptEnd;
        return Math.Max(at, MinimumLength);
    }

    /// <summary>Reads a server's answer to transaction XID for MAC; false when it is not one.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> packet, uint xid, ReadOnlySpan<byte> mac, out byte type, out DhcpLease? lease)
    {
        type = 0;
        lease = null;
        if (packet.Length < HeaderLength + 4 || packet[OpOffset] != 2 ||
            BinaryPrimitives.ReadUInt32BigEndian(packet[XidOffset..]) != xid ||
            !packet.Slice(ChaddrOffset, mac.Length).SequenceEqual(mac) ||
            BinaryPrimitives.ReadUInt32BigEndian(packet[HeaderLength..]) != MagicCookie)
        {
            return false;
        }

        IPAddress? mask = null, router = null, server = null;
        var dns = new List<IPAddress>();
        uint leaseTime = 0;
        var at = HeaderLength + 4;
        while (at < packet.Length && packet[at] != OptEnd)
        {
            if (packet[at] == OptPad)
            {
                at++;
                continue;
            }

            if (at + 1 >= packet.Length || at + 2 + packet[at + 1] > packet.Length)
            {
                return false;
            }

            var code = packet[at];
            var value = packet.Slice(at + 2, packet[at + 1]);
            switch (code)
            {
                case OptMessageType when value.Length == 1:
                    type = value[0];
                    break;
                case OptSubnetMask when value.Length == 4:
                    mask = new IPAddress(value);
                    break;
                case OptRouter when value.Length >= 4:
                    router = new IPAddress(value[..4]);
                    break;
                case OptDns:
                    for (var i = 0; i + 4 <= value.Length; i += 4)
                    {
                        dns.Add(new IPAddress(value.Slice(i, 4)));
                    }

                    break;
                case OptLeaseTime when value.Length == 4:
                    leaseTime = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case OptServerId when value.Length == 4:
                    server = new IPAddress(value);
                    break;
            }

            at += 2 + value.Length;
        }

        if (type is not (Offer or Ack or Nak))
        {
            return false;
        }

        var address = new IPAddress(packet.Slice(YiaddrOffset, 4));
        var prefix = mask is null ? 24 : System.Numerics.BitOperations.PopCount(BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes()));
        lease = server is null && type != Nak ? null : new DhcpLease(address, prefix, router, dns, leaseTime, server ?? IPAddress.Any);
        return lease is not null || type == Nak;
    }

    private static int Address(Span<byte> buffer, int at, byte code, IPAddress address)
    {
        buffer[at++] = code;
        buffer[at++] = 4;
        address.TryWriteBytes(buffer[at..], out _);
        return at + 4;
    }
}
