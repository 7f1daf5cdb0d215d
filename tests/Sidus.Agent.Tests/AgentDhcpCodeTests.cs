using System.Net;
using Sidus.Agent.Network;
using Sidus.Wire.Dhcp;

namespace Sidus.Agent.Tests;

/// <summary>The agent's DHCP messages (<see cref="DhcpClientMessages"/>): what it sends as the server's codec reads
/// it, and what it takes from a server's answer. Every VM boot exercises the client against `sidus serve` too.</summary>
public sealed class AgentDhcpCodeTests
{
    private const uint Xid = 0x1234ABCD;
    private static readonly byte[] Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    private static readonly IPAddress Server = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Offered = IPAddress.Parse("10.0.0.50");

    [Fact]
    public void Create_Discover_ServerReadsABroadcastDiscoverFromTheAgent()
    {
        var bytes = DhcpClientMessages.Create(DhcpMessageType.Discover, Xid, Mac, null, null).ToArray();

        var read = DhcpPacket.Decode(bytes);
        Assert.Equal(DhcpMessageType.Discover, read.MessageType);
        Assert.Equal(DhcpConstants.OpBootRequest, read.Op);
        Assert.Equal(Xid, read.Xid);
        Assert.True(read.IsBroadcast);
        Assert.Equal("52:54:00:12:34:56", read.ClientMac);
        Assert.True(read.Options.TryGet(DhcpOptionCode.ClientIdentifier, out var clientId));
        Assert.Equal("01525400123456", Convert.ToHexString(clientId));
        Assert.Equal("sidus-agent", read.Options.GetString(DhcpOptionCode.VendorClassIdentifier));
        Assert.True(read.Options.TryGet(DhcpOptionCode.ParameterRequestList, out var wanted));
        Assert.Equal("0103063336", Convert.ToHexString(wanted));
        Assert.False(read.Options.Contains(DhcpOptionCode.RequestedIpAddress));
        Assert.False(read.Options.Contains(DhcpOptionCode.ServerIdentifier));
        Assert.True(bytes.Length >= DhcpConstants.MinimumReplySize);
    }

    [Fact]
    public void Create_Request_NamesTheOfferAndItsServer()
    {
        var read = DhcpPacket.Decode(DhcpClientMessages.Create(DhcpMessageType.Request, Xid, Mac, Offered, Server).ToArray());

        Assert.Equal(DhcpMessageType.Request, read.MessageType);
        Assert.Equal(Ip4.Parse("10.0.0.50"), read.Options.GetAddress(DhcpOptionCode.RequestedIpAddress));
        Assert.Equal(Ip4.Parse("10.0.0.1"), read.Options.GetAddress(DhcpOptionCode.ServerIdentifier));
    }

    [Fact]
    public void TryRead_Ack_LeaseWithEveryValue()
    {
        var reply = Reply(DhcpMessageType.Ack);

        Assert.True(DhcpClientMessages.TryRead(reply.ToArray(), Xid, Mac, out var type, out var lease));

        Assert.Equal(DhcpMessageType.Ack, type);
        Assert.NotNull(lease);
        Assert.Equal(Offered, lease.Address);
        Assert.Equal(20, lease.PrefixLength);
        Assert.Equal(IPAddress.Parse("10.0.0.254"), lease.Router);
        Assert.Equal(new[] { IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.3") }, lease.Dns);
        Assert.Equal(3600u, lease.LeaseSeconds);
        Assert.Equal(Server, lease.ServerId);
    }

    [Fact]
    public void TryRead_OptionsOverloadedIntoTheFileField_StillRead()
    {
        // RFC 2132 section 9.3: a server short of room may carry options in the file field; the server's codec reads
        // them, so the agent does too (its former hand-written reader stopped at the main area).
        var reply = Reply(DhcpMessageType.Offer, withLeaseOptions: false).ToArray();
        var main = DhcpConstants.OptionsOffset;
        var end = Array.IndexOf(reply, (byte)DhcpOptionCode.End, main);
        byte[] overload = [(byte)DhcpOptionCode.Overload, 1, DhcpConstants.OverloadFile, (byte)DhcpOptionCode.End];
        overload.CopyTo(reply, end);
        byte[] inFile = [(byte)DhcpOptionCode.SubnetMask, 4, 255, 255, 255, 128, (byte)DhcpOptionCode.End];
        inFile.CopyTo(reply, DhcpConstants.FileOffset);

        Assert.True(DhcpClientMessages.TryRead(reply, Xid, Mac, out var type, out var lease));

        Assert.Equal(DhcpMessageType.Offer, type);
        Assert.Equal(25, lease!.PrefixLength);
    }

    [Fact]
    public void TryRead_Nak_TrueWithoutLease()
    {
        var nak = new DhcpPacket { Op = DhcpConstants.OpBootReply, Xid = Xid };
        Mac.CopyTo(nak.Chaddr);
        nak.Options.SetByte(DhcpOptionCode.MessageType, (byte)DhcpMessageType.Nak);
        nak.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));

        Assert.True(DhcpClientMessages.TryRead(nak.ToArray(), Xid, Mac, out var type, out var lease));
        Assert.Equal(DhcpMessageType.Nak, type);
        Assert.Null(lease);
    }

    [Theory]
    [InlineData("another transaction")]
    [InlineData("another client")]
    [InlineData("a request, not a reply")]
    [InlineData("an offer naming no server")]
    [InlineData("cut short")]
    public void TryRead_NotOurs_Dropped(string what)
    {
        var reply = Reply(DhcpMessageType.Offer);
        byte[] mac = Mac;
        var xid = Xid;
        switch (what)
        {
            case "another transaction":
                xid++;
                break;
            case "another client":
                mac = [.. Mac[..5], 0x57];
                break;
            case "a request, not a reply":
                reply.Op = DhcpConstants.OpBootRequest;
                break;
            case "an offer naming no server":
                reply.Options.Remove(DhcpOptionCode.ServerIdentifier);
                break;
        }

        var bytes = reply.ToArray();
        if (what == "cut short")
        {
            bytes = bytes[..(DhcpConstants.OptionsOffset + 3)];
        }

        Assert.False(DhcpClientMessages.TryRead(bytes, xid, mac, out _, out var lease));
        Assert.Null(lease);
    }

    private static DhcpPacket Reply(DhcpMessageType type, bool withLeaseOptions = true)
    {
        var reply = new DhcpPacket { Op = DhcpConstants.OpBootReply, Xid = Xid, Yiaddr = Ip4.FromIPAddress(Offered) };
        Mac.CopyTo(reply.Chaddr);
        reply.Options.SetByte(DhcpOptionCode.MessageType, (byte)type);
        reply.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.FromIPAddress(Server));
        if (withLeaseOptions)
        {
            reply.Options.SetAddress(DhcpOptionCode.SubnetMask, Ip4.Parse("255.255.240.0"));
            reply.Options.SetAddresses(DhcpOptionCode.Router, [Ip4.Parse("10.0.0.254")]);
            reply.Options.SetAddresses(DhcpOptionCode.DomainNameServer, [Ip4.Parse("10.0.0.2"), Ip4.Parse("10.0.0.3")]);
            reply.Options.SetUInt32(DhcpOptionCode.LeaseTime, 3600);
        }

        return reply;
    }
}
