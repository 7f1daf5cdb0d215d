using System.Numerics;
using Sidus.Wire.Dhcp;

namespace Sidus.Agent.Network;

/// <summary>
/// The DHCP messages of the agent's client, written and read with the server's own codec (Sidus.Wire.Dhcp), so both
/// ends read the wire the same way (option overload and split options included): DISCOVER and REQUEST go out; an
/// OFFER, ACK or NAK for our transaction comes in, anything else is dropped and the client keeps listening.
/// </summary>
internal static class DhcpClientMessages
{
    /// <summary>Client identifier type 1: an Ethernet address follows (RFC 2132 section 9.14).</summary>
    private const byte EthernetClientId = 1;

    /// <summary>The prefix a lease without a subnet mask gets: the /24 nearly every boot network is.</summary>
    private const int DefaultPrefixLength = 24;

    private static readonly byte[] VendorClass = "sidus-agent"u8.ToArray();

    private static readonly byte[] ParametersWanted =
    [
        (byte)DhcpOptionCode.SubnetMask, (byte)DhcpOptionCode.Router, (byte)DhcpOptionCode.DomainNameServer,
        (byte)DhcpOptionCode.LeaseTime, (byte)DhcpOptionCode.ServerIdentifier,
    ];

    /// <summary>A DISCOVER (REQUESTED and SERVER null) or a REQUEST for the address SERVER offered.</summary>
    public static DhcpPacket Create(DhcpMessageType type, uint xid, ReadOnlySpan<byte> mac, IPAddress? requested, IPAddress? server)
    {
        // The broadcast flag makes the server broadcast its answer: an interface with no address yet still gets it.
        var packet = new DhcpPacket { Xid = xid, Flags = DhcpConstants.BroadcastFlag, HLen = (byte)mac.Length };
        mac.CopyTo(packet.Chaddr);
        packet.Options.SetByte(DhcpOptionCode.MessageType, (byte)type);
        packet.Options.Set(DhcpOptionCode.ClientIdentifier, [EthernetClientId, .. mac]);
        if (requested is not null)
        {
            packet.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, Ip4.FromIPAddress(requested));
        }

        if (server is not null)
        {
            packet.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.FromIPAddress(server));
        }

        packet.Options.Set(DhcpOptionCode.ParameterRequestList, ParametersWanted);
        packet.Options.Set(DhcpOptionCode.VendorClassIdentifier, VendorClass);
        return packet;
    }

    /// <summary>
    /// Reads a server's answer to transaction XID for MAC: true with its type for an OFFER or ACK (LEASE set) or a
    /// NAK (LEASE null); false for anything else: malformed, another client's, a request, or an offer that names no
    /// server.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, uint xid, ReadOnlySpan<byte> mac, out DhcpMessageType type, out AcquiredLease? lease)
    {
        type = default;
        lease = null;
        if (!DhcpPacket.TryDecode(datagram, out var packet, out _) || packet.Op != DhcpConstants.OpBootReply
            || packet.Xid != xid || !packet.HardwareAddress.SequenceEqual(mac) || packet.MessageType is not { } received)
        {
            return false;
        }

        type = received;
        if (type == DhcpMessageType.Nak)
        {
            return true;
        }

        if (type is not (DhcpMessageType.Offer or DhcpMessageType.Ack)
            || packet.Options.GetAddress(DhcpOptionCode.ServerIdentifier) is not { } server)
        {
            return false;
        }

        var options = packet.Options;
        var prefix = options.GetAddress(DhcpOptionCode.SubnetMask) is { } mask ? BitOperations.PopCount(mask.Value) : DefaultPrefixLength;
        var router = options.TryGet(DhcpOptionCode.Router, out var routers) && routers.Length >= Ip4.Size ? Ip4.Read(routers).ToIPAddress() : null;
        var dns = new List<IPAddress>();
        if (options.TryGet(DhcpOptionCode.DomainNameServer, out var servers))
        {
            for (var at = 0; at + Ip4.Size <= servers.Length; at += Ip4.Size)
            {
                dns.Add(Ip4.Read(servers[at..]).ToIPAddress());
            }
        }

        lease = new AcquiredLease(packet.Yiaddr.ToIPAddress(), prefix, router, dns, options.GetUInt32(DhcpOptionCode.LeaseTime) ?? 0, server.ToIPAddress());
        return true;
    }
}
