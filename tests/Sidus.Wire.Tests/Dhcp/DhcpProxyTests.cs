using System.Net;
using System.Net.Sockets;
using Sidus.Wire.Dhcp;
using Sidus.Testing;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>proxyDHCP beside a DHCP server Sidus does not own: dnsmasq (DHCP only) plays the site's server on the
/// same bridge; a real client (ISC dhclient sending a PXE vendor class and architecture) asks; an observer on the bridge records every reply.</summary>
[Collection(NetworkTests.Name)]
public sealed class DhcpProxyTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly DhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task ProxyMode_BesideDnsmasq_GivesBootInfoButNeverAnAddress()
    {
        var site = _lab.AddClient("02:00:00:00:0d:02", "10.77.0.2/24");
        var leases = _lab.TempFile("dnsmasq.leases");
        using var dnsmasq = site.Start(Tool.Require("dnsmasq", "dnsmasq-base"),
        [
            "--keep-in-foreground", "--log-facility=-", "--port=0", "--conf-file=/dev/null", "--interface=" + DhcpLab.ClientInterface,
            "--bind-interfaces", "--dhcp-range=10.77.0.50,10.77.0.60,10m", "--dhcp-leasefile=" + leases,
            "--pid-file=" + _lab.TempFile("dnsmasq.pid"), "--log-dhcp",
        ]);
        Assert.True(await dnsmasq.WaitForOutputAsync("DHCP, IP range", Wait), dnsmasq.Output);
        _lab.StartServer(_lab.DefaultOptions(DhcpMode.Proxy));
        var observer = _lab.AddClient("02:00:00:00:0d:03", "10.77.0.41/24");
        using var listener = observer.Invoke(() => OpenListener(DhcpConstants.ClientPort));
        var client = _lab.AddClient("02:00:00:00:0d:01");

        // dhclient is no PXE ROM: it would take a proxy offer (yiaddr 0) as an address offer. A PXE ROM keeps proxy
        // offers for boot information only; `reject` makes dhclient do the same, so it takes its address from dnsmasq.
        var lease = DhcpClients.Dhclient(_lab, client, _lab.TempFile("proxy.leases"),
            "option pxe-arch code 93 = unsigned integer 16;\nsend pxe-arch 0;\nsend vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n"
            + "reject 10.77.0.1;\n");
        var replies = Collect(listener, "02:00:00:00:0d:01", r => r.Any(p => p.Siaddr == DhcpLab.ServerAddress));

        // The site's server gave the client its address; Sidus only added boot information.
        Assert.True(DhcpPool.Parse("10.77.0.50-10.77.0.60").Contains(Ip4.Parse(lease.Address)), lease.Raw);
        // dnsmasq unicasts to dhclient, so the observer on the bridge sees only Sidus's broadcast proxy offers.
        var proxy = replies.First(p => p.Options.GetAddress(DhcpOptionCode.ServerIdentifier) == DhcpLab.ServerAddress);
        Assert.All(replies.Where(p => p.Options.GetAddress(DhcpOptionCode.ServerIdentifier) == DhcpLab.ServerAddress),
            p => Assert.True(p.Yiaddr.IsZero && p.MessageType == DhcpMessageType.Offer));
        Assert.Equal(DhcpMessageType.Offer, proxy.MessageType);
        Assert.True(proxy.Yiaddr.IsZero);
        Assert.Equal(DhcpLab.ServerAddress, proxy.Siaddr);
        Assert.Equal("undionly.kpxe", proxy.FileName);
        Assert.Equal("PXEClient", proxy.Options.GetString(DhcpOptionCode.VendorClassIdentifier));
        Assert.True(proxy.Options.TryGet(DhcpOptionCode.VendorSpecific, out var vendor));
        Assert.Equal(new byte[] { 6, 1, 8, 255 }, vendor.ToArray());
        Assert.False(proxy.Options.Contains(DhcpOptionCode.LeaseTime));
        Assert.Empty(_lab.Server.Leases);
        Assert.Contains(_lab.Log.Lines, l => l.Contains("proxy mode answers DISCOVER on port 67 only", StringComparison.Ordinal));
    }

    [Fact]
    public void ProxyMode_BootServerRequestOn4011_IsAckedToSenderWithBootItem()
    {
        _lab.StartServer(_lab.DefaultOptions(DhcpMode.Proxy));
        var client = _lab.AddClient("02:00:00:00:0e:01", "10.77.0.42/24");
        var request = DhcpTestPackets.Request(DhcpMessageType.Request, "02:00:00:00:0e:01", p =>
        {
            DhcpTestPackets.MakePxe(p, 7);
            p.Ciaddr = Ip4.Parse("10.77.0.42");
            p.Options.Set(DhcpOptionCode.VendorSpecific, [71, 4, 0x80, 0x00, 0x00, 0x00, 255]);
        });

        var reply = client.Invoke(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            socket.SendTo(request.ToArray(), new IPEndPoint(IPAddress.Parse("10.77.0.1"), DhcpConstants.PxeBootServerPort));
            var buffer = new byte[DhcpConstants.MaxPacketSize];
            var length = socket.Receive(buffer);
            return DhcpPacket.Decode(buffer.AsSpan(0, length));
        });

        Assert.Equal(DhcpMessageType.Ack, reply.MessageType);
        Assert.Equal("snponly.efi", reply.FileName);
        Assert.Equal(DhcpLab.ServerAddress, reply.Siaddr);
        Assert.True(reply.Options.TryGet(DhcpOptionCode.VendorSpecific, out var vendor));
        Assert.Equal(new byte[] { 6, 1, 8, 71, 4, 0x80, 0, 0, 0, 255 }, vendor.ToArray());
    }

    private static Socket OpenListener(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.EnableBroadcast = true;
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        return socket;
    }

    /// <summary>Replies for <paramref name="mac"/> until <paramref name="enough"/> holds or 20 s pass.</summary>
    private static List<DhcpPacket> Collect(Socket socket, string mac, Func<List<DhcpPacket>, bool> enough)
    {
        var replies = new List<DhcpPacket>();
        var buffer = new byte[DhcpConstants.MaxPacketSize];
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline && !enough(replies))
        {
            socket.ReceiveTimeout = 500;
            try
            {
                var length = socket.Receive(buffer);
                if (DhcpPacket.TryDecode(buffer.AsSpan(0, length), out var packet, out _) && packet.Op == DhcpConstants.OpBootReply
                    && packet.ClientMac == mac)
                    replies.Add(packet);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // No datagram in this slice; check the deadline and the condition again.
            }
        }
        return replies;
    }
}
