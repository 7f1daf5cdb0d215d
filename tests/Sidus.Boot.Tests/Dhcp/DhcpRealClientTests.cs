using Sidus.Boot.Dhcp;

namespace Sidus.Boot.Tests.Dhcp;

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
}
