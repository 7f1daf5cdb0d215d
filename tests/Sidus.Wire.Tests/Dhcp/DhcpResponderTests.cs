using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Wire.Dhcp;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>The decision logic on exact packets; the same paths run against real clients in DhcpRealClientTests.</summary>
public class DhcpResponderTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Any, 68);
    private readonly ManualTime _time = new();

    private static DhcpServerOptions Options(DhcpMode mode = DhcpMode.Full) => new()
    {
        Mode = mode,
        ServerAddress = Ip4.Parse("10.0.0.1"),
        Router = Ip4.Parse("10.0.0.254"),
        DnsServers = [Ip4.Parse("10.0.0.53")],
        DomainName = "lab.test",
        Pools = [DhcpPool.Parse("10.0.0.100-10.0.0.110")],
        RelaySubnets = [new DhcpSubnet(Ip4.Parse("10.9.0.0"), Ip4.MaskFromPrefix(24), [DhcpPool.Parse("10.9.0.50-10.9.0.60")]) { Router = Ip4.Parse("10.9.0.1") }],
        ScriptUrlTemplate = "http://{server}:8080/boot/{mac}.ipxe",
    };

    private DhcpResponder Responder(DhcpServerOptions options, IDhcpNodeSource? nodes = null) =>
        new(options, nodes ?? new StaticDhcpNodeSource(), new DhcpLeaseTable(_time), NullLogger.Instance);

    [Theory]
    [InlineData((ushort)0, "undionly.kpxe")]
    [InlineData((ushort)6, "i386-efi/ipxe.efi")]
    [InlineData((ushort)7, "snponly.efi")]
    [InlineData((ushort)9, "snponly.efi")]
    [InlineData((ushort)11, "arm64-efi/snp.efi")]
    public void Discover_PxeArchitecture_GetsMatchingBootFile(ushort arch, string file)
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:01", p => DhcpTestPackets.MakePxe(p, arch));

        var reply = Responder(Options()).Handle(request, Client, bootServerPort: false)!;

        Assert.Equal(DhcpMessageType.Offer, reply.Packet.MessageType);
        Assert.Equal(file, reply.Packet.FileName);
        Assert.Equal(Ip4.Parse("10.0.0.1"), reply.Packet.Siaddr);
        Assert.Equal("PXEClient", reply.Packet.Options.GetString(DhcpOptionCode.VendorClassIdentifier));
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.ClientMachineIdentifier));
        Assert.Equal(IPAddress.Broadcast, reply.Destination.Address);
    }

    [Theory]
    [InlineData("PXEClient:Arch:00007:UNDI:003016", "snponly.efi")]
    [InlineData("PXEClient:Arch:00009:UNDI:003016", "snponly.efi")]
    [InlineData("PXEClient:Arch:00000:UNDI:002001", "undionly.kpxe")]
    public void Discover_PxeWithoutOption93_TakesArchitectureFromVendorClass(string vendor, string file)
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:02", p => p.Options.SetString(DhcpOptionCode.VendorClassIdentifier, vendor));

        var reply = Responder(Options()).Handle(request, Client, bootServerPort: false)!;

        Assert.Equal(file, reply.Packet.FileName);
    }

    [Theory]
    [InlineData("PXEClient")]
    [InlineData("PXEClient:Arch:0000")]
    [InlineData("PXEClient:Arch:0x007:UNDI:003016")]
    [InlineData("PXEClient:Arch:99999:UNDI:003016")]
    public void Discover_PxeVendorClassWithoutUsableArchitecture_GetsNoBootFile(string vendor)
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:03", p => p.Options.SetString(DhcpOptionCode.VendorClassIdentifier, vendor));

        var reply = Responder(Options()).Handle(request, Client, bootServerPort: false)!;

        Assert.Equal(DhcpMessageType.Offer, reply.Packet.MessageType);
        Assert.Equal(string.Empty, reply.Packet.FileName);
    }

    [Fact]
    public void Discover_Ipxe_GetsScriptUrlAndGuidEchoed()
    {
        var guid = new byte[17];
        guid[5] = 0x42;
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:02", p =>
        {
            DhcpTestPackets.MakePxe(p, 0);
            DhcpTestPackets.MakeIpxe(p);
            p.Options.Set(DhcpOptionCode.ClientMachineIdentifier, guid);
        });

        var reply = Responder(Options()).Handle(request, Client, bootServerPort: false)!;

        Assert.Equal("http://10.0.0.1:8080/boot/52:54:00:00:00:02.ipxe", reply.Packet.FileName);
        Assert.True(reply.Packet.Options.TryGet(DhcpOptionCode.ClientMachineIdentifier, out var echoed));
        Assert.Equal(guid, echoed.ToArray());
    }

    [Theory]
    [InlineData(DhcpMode.Full, true)]
    [InlineData(DhcpMode.Proxy, false)]
    public void Discover_Ipxe_FullModeSaysSkipProxyDhcpProxyModeDoesNot(DhcpMode mode, bool expected)
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:03", p =>
        {
            DhcpTestPackets.MakePxe(p, 0);
            DhcpTestPackets.MakeIpxe(p);
        });

        var reply = Responder(Options(mode)).Handle(request, Client, bootServerPort: false)!;

        Assert.Equal(expected, reply.Packet.Options.TryGet(DhcpOptionCode.IpxeEncapsulated, out var encapsulated));
        if (expected)
        {
            Assert.Equal(new byte[] { 176, 1, 1 }, encapsulated.ToArray());
        }
    }

    [Fact]
    public void Discover_PlainClient_GetsLeaseOptionsWithoutBootInfo()
    {
        var reply = Responder(Options()).Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:03"), Client, false)!;
        var o = reply.Packet.Options;

        Assert.True(DhcpPool.Parse("10.0.0.100-10.0.0.110").Contains(reply.Packet.Yiaddr));
        Assert.Equal(3600u, o.GetUInt32(DhcpOptionCode.LeaseTime));
        Assert.Equal(1800u, o.GetUInt32(DhcpOptionCode.RenewalTime));
        Assert.Equal(Ip4.Parse("10.0.0.254"), o.GetAddress(DhcpOptionCode.Router));
        Assert.Equal(Ip4.Parse("10.0.0.53"), o.GetAddress(DhcpOptionCode.DomainNameServer));
        Assert.Equal("lab.test", o.GetString(DhcpOptionCode.DomainName));
        Assert.Equal("", reply.Packet.FileName);
        Assert.False(o.Contains(DhcpOptionCode.VendorClassIdentifier));
    }

    [Fact]
    public void Request_InitRebootForForeignAddress_IsNaked()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:00:04",
            p => p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, Ip4.Parse("192.168.1.7")));

        var reply = Responder(Options()).Handle(request, Client, false)!;

        Assert.Equal(DhcpMessageType.Nak, reply.Packet.MessageType);
        Assert.Equal(IPAddress.Broadcast, reply.Destination.Address);
    }

    [Fact]
    public void Request_ReservedNodeAskingOtherAddress_IsNakedThenGetsReservation()
    {
        var nodes = new StaticDhcpNodeSource([new("52:54:00:00:00:05", new DhcpNodeAnswer { NodeName = "n5", FixedAddress = Ip4.Parse("10.0.0.50") })]);
        var responder = Responder(Options(), nodes);
        var initReboot = DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:00:05",
            p => p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, Ip4.Parse("10.0.0.100")));

        Assert.Equal(DhcpMessageType.Nak, responder.Handle(initReboot, Client, false)!.Packet.MessageType);
        var offer = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:05"), Client, false)!;
        Assert.Equal(Ip4.Parse("10.0.0.50"), offer.Packet.Yiaddr);
    }

    [Fact]
    public void Discover_ThroughRelay_UsesRelaySubnetAndRepliesToGiaddr()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:06", p => p.Giaddr = Ip4.Parse("10.9.0.1"));

        var reply = Responder(Options()).Handle(request, new IPEndPoint(IPAddress.Parse("10.9.0.1"), 67), false)!;

        Assert.True(DhcpPool.Parse("10.9.0.50-10.9.0.60").Contains(reply.Packet.Yiaddr));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.9.0.1"), 67), reply.Destination);
        Assert.Equal(Ip4.Parse("10.9.0.1"), reply.Packet.Giaddr);
    }

    [Fact]
    public void Discover_UnknownRelay_IsIgnored()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:07", p => p.Giaddr = Ip4.Parse("172.16.0.1"));
        Assert.Null(Responder(Options()).Handle(request, Client, false));
    }

    [Fact]
    public void Discover_UnknownPxeMachineWithNoBootPolicy_GetsAddressButNothingToBoot()
    {
        var nodes = new StaticDhcpNodeSource(unknown: DhcpNodeAnswer.UnknownNoBoot);
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:08", p =>
        {
            DhcpTestPackets.MakePxe(p, 7);
            DhcpTestPackets.MakeIpxe(p);
        });

        var reply = Responder(Options(), nodes).Handle(request, Client, false)!;

        Assert.Equal(DhcpMessageType.Offer, reply.Packet.MessageType);
        Assert.True(DhcpPool.Parse("10.0.0.100-10.0.0.110").Contains(reply.Packet.Yiaddr));
        Assert.Equal(Ip4.Parse("10.0.0.254"), reply.Packet.Options.GetAddress(DhcpOptionCode.Router));
        Assert.Equal(string.Empty, reply.Packet.FileName);
        Assert.Equal(string.Empty, reply.Packet.ServerName);
        Assert.Equal(Ip4.Any, reply.Packet.Siaddr);
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.VendorClassIdentifier));
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.BootFileName));
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.IpxeEncapsulated));
    }

    [Fact]
    public void Request_UnknownMachineWithNoBootPolicy_IsAckedWithoutBootFile()
    {
        var nodes = new StaticDhcpNodeSource(unknown: DhcpNodeAnswer.UnknownNoBoot);
        var responder = Responder(Options(), nodes);
        var offer = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:18", p => DhcpTestPackets.MakePxe(p, 0)), Client, false)!;
        var request = DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:00:18", p =>
        {
            DhcpTestPackets.MakePxe(p, 0);
            p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
            p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, offer.Packet.Yiaddr);
        });

        var ack = responder.Handle(request, Client, false)!;

        Assert.Equal(DhcpMessageType.Ack, ack.Packet.MessageType);
        Assert.Equal(offer.Packet.Yiaddr, ack.Packet.Yiaddr);
        Assert.True(ack.NeedsCommit);
        Assert.Equal(string.Empty, ack.Packet.FileName);
    }

    [Fact]
    public void ProxyAndBootServer_UnknownMachineWithNoBootPolicy_AreNotAnswered()
    {
        var nodes = new StaticDhcpNodeSource(unknown: DhcpNodeAnswer.UnknownNoBoot);
        var discover = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:28", p => DhcpTestPackets.MakePxe(p, 0));
        var bootServer = DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:00:28", p => DhcpTestPackets.MakePxe(p, 7));

        Assert.Null(Responder(Options(DhcpMode.Proxy), nodes).Handle(discover, Client, false));
        Assert.Null(Responder(Options(DhcpMode.Proxy), nodes).Handle(bootServer, new IPEndPoint(IPAddress.Parse("10.0.0.77"), 68), bootServerPort: true));
    }

    [Fact]
    public void Discover_UnknownMachine_NeverOfferedANodesFixedAddress()
    {
        // The node owns the first pool address; the pool hands unknown machines every other one first.
        var nodes = new StaticDhcpNodeSource([new("52:54:00:00:00:99", new DhcpNodeAnswer { NodeName = "n99", FixedAddress = Ip4.Parse("10.0.0.100") })],
            DhcpNodeAnswer.UnknownNoBoot);
        var responder = Responder(Options(), nodes);
        var offered = new List<Ip4>();
        for (var i = 0; i < 10; i++)
        {
            var discover = DhcpTestPackets.Request(DhcpMessageType.Discover, $"52:54:00:00:01:{i:x2}", p =>
                p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, Ip4.Parse("10.0.0.100")));
            offered.Add(responder.Handle(discover, Client, false)!.Packet.Yiaddr);
        }

        Assert.DoesNotContain(Ip4.Parse("10.0.0.100"), offered);
        Assert.Equal(10, offered.Distinct().Count());
        Assert.Null(responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:01:0a"), Client, false));
    }

    [Fact]
    public void Discover_UnknownMachineWithDefaults_IsReportedDiscovered()
    {
        var nodes = new StaticDhcpNodeSource();
        Responder(Options(), nodes).Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:09"), Client, false);
        Assert.True(nodes.DiscoveredClients.ContainsKey("52:54:00:00:00:09"));
    }

    [Fact]
    public void Discover_ManyUnknownMachines_FewLinesAtInformationTheRestCountedAtDebug()
    {
        var log = new TestLog();
        var nodes = new StaticDhcpNodeSource([new("52:54:00:00:00:77", new DhcpNodeAnswer { NodeName = "n77" })], DhcpNodeAnswer.UnknownNoBoot);
        var options = Options() with { Pools = [DhcpPool.Parse("10.0.0.100-10.0.0.199")] };
        var responder = new DhcpResponder(options, nodes, new DhcpLeaseTable(_time), log, _time);
        const int Machines = DhcpResponder.UnknownLinesPerWindow + 15;
        for (var i = 0; i < Machines; i++)
            Assert.NotNull(responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, $"52:54:00:00:02:{i:x2}"), Client, false));
        Assert.NotNull(responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:77"), Client, false));

        var information = log.Lines.Where(l => l.StartsWith("Information: DHCP OFFER", StringComparison.Ordinal)).ToList();
        Assert.Equal(DhcpResponder.UnknownLinesPerWindow + 1, information.Count);
        Assert.Contains("Information: DHCP OFFER 10.0.0.100 to 52:54:00:00:02:00: unknown machine, no boot: no boot", information);
        Assert.Contains(information, l => l.Contains("(node n77)", StringComparison.Ordinal));
        Assert.Equal(15, log.Lines.Count(l => l.StartsWith("Debug: DHCP OFFER", StringComparison.Ordinal)));

        _time.Advance(DhcpResponder.UnknownLinesWindow);
        responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:03:01"), Client, false);
        Assert.Contains("Information: DHCP: 15 more line(s) about machines that are no node went to Debug (at most 20 every 10 s at Information)", log.Lines);
        Assert.StartsWith("Information: DHCP OFFER", log.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void ProxyDiscover_Bios_GetsDirectAnswerWithoutAddress()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:0a", p => DhcpTestPackets.MakePxe(p, 0));

        var reply = Responder(Options(DhcpMode.Proxy)).Handle(request, Client, false)!;

        Assert.Equal(Ip4.Any, reply.Packet.Yiaddr);
        Assert.Equal("undionly.kpxe", reply.Packet.FileName);
        Assert.True(reply.Packet.Options.TryGet(DhcpOptionCode.VendorSpecific, out var vendor));
        Assert.Equal(new byte[] { 6, 1, 8, 255 }, vendor.ToArray());
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.LeaseTime));
    }

    [Fact]
    public void ProxyDiscover_Uefi_OmitsOption43SoClientAsksBootServer()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:0b", p => DhcpTestPackets.MakePxe(p, 7));
        var reply = Responder(Options(DhcpMode.Proxy)).Handle(request, Client, false)!;
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.VendorSpecific));
        Assert.Equal("snponly.efi", reply.Packet.FileName);
    }

    [Fact]
    public void ProxyDiscover_NonPxe_IsIgnored()
    {
        Assert.Null(Responder(Options(DhcpMode.Proxy)).Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:00:0c"), Client, false));
    }

    [Fact]
    public void BootServerRequest_EchoesBootItemAndRepliesToSender()
    {
        var sender = new IPEndPoint(IPAddress.Parse("10.0.0.77"), 68);
        var request = DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:00:0d", p =>
        {
            DhcpTestPackets.MakePxe(p, 7);
            p.Ciaddr = Ip4.Parse("10.0.0.77");
            p.Options.Set(DhcpOptionCode.VendorSpecific, [71, 4, 0x80, 0x00, 0x00, 0x00, 255]);
        });

        var reply = Responder(Options(DhcpMode.Proxy)).Handle(request, sender, bootServerPort: true)!;

        Assert.Equal(DhcpMessageType.Ack, reply.Packet.MessageType);
        Assert.Equal(sender, reply.Destination);
        Assert.Equal("snponly.efi", reply.Packet.FileName);
        Assert.True(reply.Packet.Options.TryGet(DhcpOptionCode.VendorSpecific, out var vendor));
        Assert.Equal(new byte[] { 6, 1, 8, 71, 4, 0x80, 0, 0, 0, 255 }, vendor.ToArray());
    }

    [Fact]
    public void Inform_GetsOptionsWithoutLease()
    {
        var request = DhcpTestPackets.Request(DhcpMessageType.Inform, "52:54:00:00:00:0e", p => p.Ciaddr = Ip4.Parse("10.0.0.30"));

        var reply = Responder(Options()).Handle(request, Client, false)!;

        Assert.Equal(DhcpMessageType.Ack, reply.Packet.MessageType);
        Assert.Equal(Ip4.Any, reply.Packet.Yiaddr);
        Assert.False(reply.Packet.Options.Contains(DhcpOptionCode.LeaseTime));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.30"), 68), reply.Destination);
    }

    /// <summary>DISCOVER then REQUEST for what was offered; the ACKed address.</summary>
    private static Ip4 Lease(DhcpResponder responder, string mac)
    {
        var offer = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, mac), Client, false)!;
        var ack = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Request, mac, p =>
        {
            p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
            p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, offer.Packet.Yiaddr);
        }), Client, false)!;
        Assert.Equal(DhcpMessageType.Ack, ack.Packet.MessageType);
        return ack.Packet.Yiaddr;
    }

    private static DhcpPacket Release(string mac, Ip4 address) => DhcpTestPackets.Request(DhcpMessageType.Release, mac, p =>
    {
        p.Ciaddr = address;
        p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
    });

    [Fact]
    public void Release_FromAnotherSourceThanItsAddress_IsIgnored()
    {
        var log = new TestLog();
        var leases = new DhcpLeaseTable(_time);
        var responder = new DhcpResponder(Options(), new StaticDhcpNodeSource(), leases, log, _time);
        var address = Lease(responder, "52:54:00:00:05:01");

        Assert.Null(responder.Handle(Release("52:54:00:00:05:01", address), new IPEndPoint(IPAddress.Parse("10.0.0.66"), 68), false));
        Assert.Equal(DhcpLeaseState.Bound, leases.FindByAddress(address)!.State);
        Assert.Contains(log.Lines, l => l.Contains($"ignored: it names {address} but came from 10.0.0.66", StringComparison.Ordinal));

        Assert.Null(responder.Handle(Release("52:54:00:00:05:01", address), new IPEndPoint(address.ToIPAddress(), 68), false));
        Assert.Equal(DhcpLeaseState.Released, leases.FindByAddress(address)!.State);
        Assert.Contains(log.Lines, l => l.Contains($"RELEASE of {address} by 52:54:00:00:05:01", StringComparison.Ordinal));
        // Released, the address is still no one else's.
        var other = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, "52:54:00:00:05:02",
            p => p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, address)), Client, false)!;
        Assert.NotEqual(address, other.Packet.Yiaddr);
    }

    [Fact]
    public void Request_ForgedInitRebootMovingALiveNode_IsNakedAndTheNodeKeepsItsAddress()
    {
        var leases = new DhcpLeaseTable(_time);
        var responder = new DhcpResponder(Options(), new StaticDhcpNodeSource(), leases, new TestLog(), _time);
        var address = Lease(responder, "52:54:00:00:07:01");
        var elsewhere = new Ip4(address.Value + 1);

        var forged = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:07:01",
            p => p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, elsewhere)), Client, false)!;

        Assert.Equal(DhcpMessageType.Nak, forged.Packet.MessageType);
        Assert.Equal(address, leases.FindByMac("52:54:00:00:07:01")!.Address);
        Assert.False(leases.IsAvailableTo(address, "52:54:00:00:07:02"));
        var renewal = responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Request, "52:54:00:00:07:01", p => p.Ciaddr = address), Client, false)!;
        Assert.Equal(DhcpMessageType.Ack, renewal.Packet.MessageType);
    }

    private static DhcpPacket Decline(string mac, Ip4 address) => DhcpTestPackets.Request(DhcpMessageType.Decline, mac, p =>
    {
        p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
        p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, address);
    });

    [Fact]
    public void Decline_RightAfterTheAckQuarantines_AMinuteLaterIsIgnored()
    {
        var log = new TestLog();
        var leases = new DhcpLeaseTable(_time);
        var responder = new DhcpResponder(Options(), new StaticDhcpNodeSource(), leases, log, _time);
        var probed = Lease(responder, "52:54:00:00:08:01");
        var live = Lease(responder, "52:54:00:00:08:02");

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(responder.Handle(Decline("52:54:00:00:08:01", probed), Client, false));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(responder.Handle(Decline("52:54:00:00:08:02", live), Client, false));

        Assert.Equal(DhcpLeaseState.Declined, leases.FindByAddress(probed)!.State);
        Assert.Equal(DhcpLeaseState.Bound, leases.FindByAddress(live)!.State);
        Assert.Contains(log.Lines, l => l.Contains($"{live} was bound to 52:54:00:00:08:02 more than 60 s ago or renewed since", StringComparison.Ordinal));
    }

    [Fact]
    public void Decline_LoopOfANodeMac_QuarantinesTwoAndAnotherNodeStillGetsAnAddress()
    {
        var log = new TestLog();
        var nodes = new StaticDhcpNodeSource([new("52:54:00:00:06:01", new DhcpNodeAnswer { NodeName = "evil" }),
            new("52:54:00:00:06:02", new DhcpNodeAnswer { NodeName = "victim" })]);
        // 50 addresses: up to 5 may be in quarantine, 2 of them for one client.
        var options = Options() with { Pools = [DhcpPool.Parse("10.0.0.100-10.0.0.149")] };
        var responder = new DhcpResponder(options, nodes, new DhcpLeaseTable(_time), log, _time);

        for (var i = 0; i < 30; i++)
        {
            var address = Lease(responder, "52:54:00:00:06:01");
            responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Decline, "52:54:00:00:06:01", p =>
            {
                p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse("10.0.0.1"));
                p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, address);
            }), Client, false);
        }

        Assert.Equal(2, log.Lines.Count(l => l.Contains("address quarantined", StringComparison.Ordinal)));
        Assert.Contains(log.Lines, l => l.Contains("already has 2 declined address(es) in quarantine", StringComparison.Ordinal));
        // Refusals are budgeted like lines about unknown machines: 28 refused, 20 at Information.
        Assert.Equal(DhcpResponder.UnknownLinesPerWindow, log.Lines.Count(l => l.StartsWith("Information: DHCP Decline from", StringComparison.Ordinal)));
        Assert.True(options.Pools[0].Contains(Lease(responder, "52:54:00:00:06:02")));
    }

    [Fact]
    public void Discover_FloodOfUnknownMacs_LeavesAnAddressForEachNode()
    {
        var nodes = new StaticDhcpNodeSource([new("52:54:00:00:07:01", new DhcpNodeAnswer { NodeName = "a" }),
            new("52:54:00:00:07:02", new DhcpNodeAnswer { NodeName = "b" }),
            new("52:54:00:00:07:03", new DhcpNodeAnswer { NodeName = "fixed", FixedAddress = Ip4.Parse("10.0.0.105") })]);
        var log = new TestLog();
        var responder = new DhcpResponder(Options(), nodes, new DhcpLeaseTable(_time), log, _time);

        var offers = 0;
        for (var i = 0; i < 200; i++)
        {
            if (responder.Handle(DhcpTestPackets.Request(DhcpMessageType.Discover, $"52:54:00:01:{i / 256:x2}:{i % 256:x2}"), Client, false) is not null)
                offers++;
        }

        // 11 addresses: 2 kept for the nodes without a fixed address, 1 is the fixed node's.
        Assert.Equal(8, offers);
        Assert.Contains(log.Lines, l => l.Contains("the rest of the pool of 10.0.0.0 is kept for nodes (3 address(es) held back, 8 held by machines that are no node, 0 in quarantine)", StringComparison.Ordinal));
        var a = Lease(responder, "52:54:00:00:07:01");
        var b = Lease(responder, "52:54:00:00:07:02");
        Assert.NotEqual(a, b);
        Assert.Equal(Ip4.Parse("10.0.0.105"), Lease(responder, "52:54:00:00:07:03"));
    }
}
