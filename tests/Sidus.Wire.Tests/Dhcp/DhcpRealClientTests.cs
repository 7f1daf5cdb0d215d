using System.Net;
using System.Net.Sockets;
using Sidus.Wire.Dhcp;
using Sidus.Testing;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>Sidus's DHCP server against real clients (busybox udhcpc, ISC dhclient, dhcpcd) inside network
/// namespaces this test creates and removes.</summary>
[Collection(NetworkTests.Name)]
public sealed class DhcpRealClientTests : IDisposable
{
    private readonly DhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void Udhcpc_PlainClient_GetsLeaseWithOptions()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:01:01");

        var lease = DhcpClients.Udhcpc(_lab, client);

        Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(lease.Address)), lease.Raw);
        Assert.Equal("10.77.0.254", lease.Router);
        Assert.Equal("10.77.0.53", lease.Dns);
        Assert.Equal("600", lease.LeaseSeconds);
        Assert.Equal("10.77.0.1", lease.ServerId);
        Assert.Null(lease.BootFile);
        Assert.Contains(_lab.Server.Leases, l => l.Mac == "02:00:00:00:01:01" && l.State == DhcpLeaseState.Bound && l.Address.ToString() == lease.Address);
    }

    [Theory]
    [InlineData("00000", "0000", "undionly.kpxe")]
    [InlineData("00007", "0007", "snponly.efi")]
    [InlineData("00009", "0009", "snponly.efi")]
    [InlineData("00011", "000b", "arm64-efi/snp.efi")]
    public void Udhcpc_PxeArchitecture_GetsBootFileForIt(string archText, string archHex, string expected)
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:02:01");

        var lease = DhcpClients.Udhcpc(_lab, client, ["-V", $"PXEClient:Arch:{archText}:UNDI:003016", "-x", $"0x5d:{archHex}"]);

        Assert.Equal(expected, lease.BootFile);
        Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(lease.Address)));
        Assert.Contains(_lab.Log.Lines, l => l.Contains("ACK", StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Udhcpc_IpxeUserClass_GetsScriptUrl()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:03:01");

        // User class 77 = "iPXE" raw, as iPXE sends it.
        var lease = DhcpClients.Udhcpc(_lab, client, ["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000", "-x", "0x4d:69505845"]);

        Assert.Equal("http://10.77.0.1:8080/boot/02:00:00:00:03:01.ipxe", lease.BootFile);
    }

    [Fact]
    public void Dhclient_PlainAndPxe_GetLeaseAndBootFile()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var plain = _lab.AddClient("02:00:00:00:04:01");
        var pxe = _lab.AddClient("02:00:00:00:04:02");

        var plainLease = DhcpClients.Dhclient(_lab, plain, _lab.TempFile("plain.leases"));
        var pxeLease = DhcpClients.Dhclient(_lab, pxe, _lab.TempFile("pxe.leases"),
            "option pxe-arch code 93 = unsigned integer 16;\nsend pxe-arch 0;\nsend vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n"
            + "request subnet-mask, routers, domain-name-servers, domain-name, dhcp-lease-time;\n");

        Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(plainLease.Address)), plainLease.Raw);
        Assert.Equal("10.77.0.254", plainLease.Router);
        Assert.Equal("10.77.0.53", plainLease.Dns);
        Assert.Equal("600", plainLease.LeaseSeconds);
        Assert.Equal("undionly.kpxe", pxeLease.BootFile);
        Assert.NotEqual(plainLease.Address, pxeLease.Address);
    }

    [Fact]
    public void Dhclient_SecondRun_RenewsSameAddress()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:05:01");
        var leases = _lab.TempFile("renew.leases");

        var first = DhcpClients.Dhclient(_lab, client, leases);
        var second = DhcpClients.Dhclient(_lab, client, leases);

        Assert.Equal(first.Address, second.Address);
        Assert.Contains(_lab.Log.Lines, l => l.Contains("INIT-REBOOT", StringComparison.Ordinal) || l.Contains("RENEWING", StringComparison.Ordinal));
    }

    [Fact]
    public void Dhclient_Release_AddressStaysItsClientsUntilTheLeaseEnds()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var first = _lab.AddClient("02:00:00:00:06:01");
        var leases = _lab.TempFile("release.leases");
        var lease = DhcpClients.Dhclient(_lab, first, leases);

        var release = DhcpClients.DhclientRelease(first, leases, lease.Address);
        Assert.True(release.Succeeded, release.ToString());
        Assert.True(SpinWait.SpinUntil(() => _lab.Server.Leases.Any(l => l.Address.ToString() == lease.Address && l.State == DhcpLeaseState.Released),
            TimeSpan.FromSeconds(10)), _lab.Log.ToString());

        // Another machine asking for it gets another address; the client that released it gets it back.
        var second = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:06:02"), request: lease.Address);
        Assert.NotEqual(lease.Address, second.Address);
        first.Ip("addr", "flush", "dev", DhcpClients.Interface);
        var again = DhcpClients.Udhcpc(_lab, first);
        Assert.Equal(lease.Address, again.Address);
    }

    [Fact]
    public void Udhcpc_ServerRestart_KeepsLeases()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:07:01");
        var before = DhcpClients.Udhcpc(_lab, client);

        _lab.StartServer(_lab.DefaultOptions());
        Assert.Contains(_lab.Server.Leases, l => l.Mac == "02:00:00:00:07:01" && l.Address.ToString() == before.Address);
        var thief = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:07:02"), request: before.Address);
        var after = DhcpClients.Udhcpc(_lab, client);

        Assert.NotEqual(before.Address, thief.Address);
        Assert.Equal(before.Address, after.Address);
    }

    [Fact]
    public async Task Udhcpc_ManyClientsAtOnce_NeverShareAnAddress()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var clients = Enumerable.Range(0, 6).Select(i => _lab.AddClient($"02:00:00:00:08:{i:x2}")).ToList();

        var leases = await Task.WhenAll(clients.Select(c => Task.Run(() => DhcpClients.Udhcpc(_lab, c))));

        Assert.Equal(leases.Length, leases.Select(l => l.Address).Distinct().Count());
        Assert.All(leases, l => Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(l.Address))));
        var bound = _lab.Server.Leases.Where(l => l.State == DhcpLeaseState.Bound).ToList();
        Assert.Equal(bound.Count, bound.Select(l => l.Address).Distinct().Count());
    }

    [Fact]
    public void Udhcpc_Reservation_IsHonouredAndKeptFromOthers()
    {
        var reserved = Ip4.Parse("10.77.0.20");
        var nodes = new StaticDhcpNodeSource([new("02:00:00:00:09:01", new DhcpNodeAnswer { NodeName = "node001", FixedAddress = reserved })]);
        _lab.StartServer(_lab.DefaultOptions(), nodes);

        var owner = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:09:01"));
        var other = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:09:02"), request: reserved.ToString());

        Assert.Equal("10.77.0.20", owner.Address);
        Assert.NotEqual("10.77.0.20", other.Address);
        Assert.Contains(_lab.Log.Lines, l => l.Contains("node001", StringComparison.Ordinal));
    }

    [Fact]
    public void Udhcpc_ArpConflict_DeclinesAndAddressIsQuarantined()
    {
        _lab.StartServer(_lab.DefaultOptions());
        // A machine the server does not know already uses the first pool address.
        _lab.AddClient("02:00:00:00:0a:99", "10.77.0.100/24");
        var client = _lab.AddClient("02:00:00:00:0a:01");

        var lease = DhcpClients.Udhcpc(_lab, client, ["-a1000"]);

        Assert.NotEqual("10.77.0.100", lease.Address);
        Assert.Contains(_lab.Server.Leases, l => l.Address.ToString() == "10.77.0.100" && l.State == DhcpLeaseState.Declined);
        Assert.Contains(_lab.Log.Lines, l => l.Contains("DECLINE of 10.77.0.100", StringComparison.Ordinal));
    }

    [Fact]
    public void Dhcpcd_TestMode_SeesOfferWithOptions()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var client = _lab.AddClient("02:00:00:00:0b:01");

        var offer = DhcpClients.DhcpcdTest(_lab, client, "-i", "PXEClient:Arch:00007:UNDI:003016");

        Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(offer["new_ip_address"])));
        Assert.Equal("10.77.0.254", offer["new_routers"]);
        Assert.Equal("10.77.0.53", offer["new_domain_name_servers"]);
        Assert.Equal("600", offer["new_dhcp_lease_time"]);
        Assert.Equal("lab.test", offer["new_domain_name"]);
    }

    [Fact]
    public void MalformedDatagrams_AreDroppedAndServerKeepsAnswering()
    {
        _lab.StartServer(_lab.DefaultOptions());
        var attacker = _lab.AddClient("02:00:00:00:0c:99", "10.77.0.9/24");
        var valid = DhcpTestPackets.PxeDiscover;
        List<byte[]> hostile =
        [
            valid[..100],
            valid[..^1],
            [.. valid[..DhcpConstants.MagicCookieOffset], 1, 2, 3, 4, .. valid[DhcpConstants.OptionsOffset..]],
            Mutated(valid, DhcpConstants.HLenOffset, 200),
            Mutated(valid, DhcpConstants.HopsOffset, 255),
            Mutated(valid, DhcpConstants.OptionsOffset + 4, 255),
            [.. valid[..^1], 0x34, 0x01, 0x03, 0xff],
            new byte[1400],
        ];
        attacker.Invoke(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            foreach (var datagram in hostile)
                socket.SendTo(datagram, new IPEndPoint(IPAddress.Parse("10.77.0.1"), DhcpConstants.ServerPort));
        });
        Assert.True(SpinWait.SpinUntil(() => _lab.Server.Statistics.Malformed >= hostile.Count, TimeSpan.FromSeconds(10)),
            $"malformed count {_lab.Server.Statistics.Malformed}\n{_lab.Log}");

        var lease = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:0c:01"));

        Assert.True(DhcpLab.Pool.Contains(Ip4.Parse(lease.Address)));
        Assert.Equal(hostile.Count, _lab.Server.Statistics.Malformed);
        Assert.Contains(_lab.Log.Lines, l => l.Contains("MissingMagicCookie", StringComparison.Ordinal));
    }

    private static byte[] Mutated(byte[] source, int offset, byte value)
    {
        var copy = source.ToArray();
        copy[offset] = value;
        return copy;
    }
}
