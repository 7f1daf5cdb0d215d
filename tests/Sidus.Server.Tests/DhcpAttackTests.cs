using System.Net;
using System.Text.Json;
using Sidus.Testing;
using Sidus.Wire.Dhcp;

namespace Sidus.Server.Tests;

/// <summary>
/// `sidus serve --dhcp full` against a hostile machine on its network (issue 11, finding 8 and the DHCP half of 2):
/// <see cref="DhcpAttacker"/> in a namespace of its own on the lab's bridge sends crafted DHCP packets, and real nodes
/// (udhcpc with the node's MAC on its veth) must still get what is theirs.
/// </summary>
[Collection(ServeDhcpCollection.Name)]
public sealed class DhcpAttackTests : IDisposable
{
    private const string AttackerAddress = "10.78.0.9";
    private const int PoolSize = 51;
    private readonly ServeDhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task DeclineLoop_OfANodesMac_QuarantinesTwoAddressesAndANodeStillGetsOne()
    {
        const string Evil = "02:00:00:00:31:01";
        const string Victim = "02:00:00:00:31:02";
        await _lab.SidusAsync("node", "add", "evil", "--mac", Evil);
        await _lab.SidusAsync("node", "add", "victim", "--mac", Victim);
        await _lab.StartServeAsync();
        using var attacker = new DhcpAttacker(_lab.AddClient(DhcpAttacker.RandomMac(), AttackerAddress + "/24"));

        // Lease, DECLINE, lease again... once more than the pool holds.
        var declined = 0;
        for (var i = 0; i < PoolSize + 5; i++)
        {
            if (attacker.Lease(Evil) is not { } address)
                break;
            attacker.Broadcast(attacker.Packet(DhcpMessageType.Decline, Evil, p =>
            {
                p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse(ServeDhcpLab.ServerAddress));
                p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, address);
            }));
            declined++;
        }

        var lease = DhcpClients.Udhcpc(_lab, _lab.AddClient(Victim));

        Assert.True(ServeDhcpLab.InPool(lease.Address), lease.Raw);
        Assert.Equal(PoolSize + 5, declined);
        Assert.Equal(2, CountLines("address quarantined for"));
        Assert.Contains($"{Evil} already has 2 declined address(es) in quarantine", _lab.ServerLog, StringComparison.Ordinal);
        Assert.Contains($"DHCP ACK {lease.Address} to {Victim} (node victim, SELECTING)", _lab.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DiscoverFlood_5000RandomMacs_RegistersAtMostTheLimitAndANodeStillGetsAnAddress()
    {
        const string Known = "02:00:00:00:32:01";
        const int Limit = 40;
        await File.WriteAllTextAsync(Path.Combine(_lab.Home, "sidus.toml"),
            $"[dhcp]\nmax-discovered-per-network = {Limit}\nunknown-records-per-minute = 100\n");
        await _lab.SidusAsync("group", "add", "newcomers");
        await _lab.SidusAsync("network", "set", "lab", "--subnet", "10.78.0.0/24", "--unknown", "discover", "--group", "newcomers");
        await _lab.SidusAsync("node", "add", "known", "--mac", Known);
        await _lab.StartServeAsync();
        using var attacker = new DhcpAttacker(_lab.AddClient(DhcpAttacker.RandomMac(), AttackerAddress + "/24"));

        // 5,000 PXE DISCOVERs, each from a MAC of its own, in bursts of 250 (about 5,000 a second).
        for (var i = 0; i < 5000; i++)
        {
            attacker.Broadcast(attacker.Packet(DhcpMessageType.Discover, DhcpAttacker.RandomMac(), p =>
            {
                p.Options.SetString(DhcpOptionCode.VendorClassIdentifier, "PXEClient:Arch:00000:UNDI:002001");
                p.Options.Set(DhcpOptionCode.ClientSystemArchitecture, [0, 0]);
            }));
            if (i % 250 == 249)
                Thread.Sleep(50);
        }

        var lease = DhcpClients.Udhcpc(_lab, _lab.AddClient(Known));

        Assert.True(ServeDhcpLab.InPool(lease.Address), lease.Raw);
        await Tools.EventuallyAsync(async () => await DiscoveredCountAsync() >= Limit, TimeSpan.FromSeconds(30),
            $"{Limit} machines being registered as discovered; server log:\n{_lab.ServerLog}");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(Limit, await DiscoveredCountAsync());
        Assert.Contains($"not registered: {Limit} discovered machines on this network already", _lab.ServerLog, StringComparison.Ordinal);
        Assert.Contains("ask to boot faster than 100 a minute", _lab.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForgedRelease_ForALiveNodesAddress_DoesNotGiveItToAnotherMachine()
    {
        const string Victim = "02:00:00:00:33:01";
        await _lab.SidusAsync("node", "add", "victim", "--mac", Victim);
        await _lab.StartServeAsync();
        var victim = _lab.AddClient(Victim);
        var lease = DhcpClients.Udhcpc(_lab, victim);
        using var attacker = new DhcpAttacker(_lab.AddClient(DhcpAttacker.RandomMac(), AttackerAddress + "/24"));

        // The RELEASE the victim would send: its chaddr, its address as ciaddr and as the datagram's source.
        var address = IPAddress.Parse(lease.Address);
        attacker.SendFrom(address, IPAddress.Parse(ServeDhcpLab.ServerAddress), attacker.Packet(DhcpMessageType.Release, Victim, p =>
        {
            p.Flags = 0;
            p.Ciaddr = Ip4.FromIPAddress(address);
            p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, Ip4.Parse(ServeDhcpLab.ServerAddress));
        }));
        await Tools.EventuallyAsync(() => Task.FromResult(_lab.ServerLog.Contains($"RELEASE of {lease.Address} by {Victim}", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the server taking the forged RELEASE");

        var other = DhcpClients.Udhcpc(_lab, _lab.AddClient(DhcpAttacker.RandomMac()), request: lease.Address);
        var taken = attacker.Lease(DhcpAttacker.RandomMac());
        var again = DhcpClients.Udhcpc(_lab, victim);

        Assert.NotEqual(lease.Address, other.Address);
        Assert.NotNull(taken);
        Assert.NotEqual(lease.Address, taken.ToString());
        Assert.Equal(lease.Address, again.Address);
    }

    [Fact]
    public async Task ForgedRequest_MovingALiveNode_IsNakedAndItsAddressGoesToNoOtherMachine()
    {
        const string Victim = "02:00:00:00:34:01";
        await _lab.SidusAsync("node", "add", "victim", "--mac", Victim);
        await _lab.StartServeAsync();
        var victim = _lab.AddClient(Victim);
        var lease = DhcpClients.Udhcpc(_lab, victim);
        using var attacker = new DhcpAttacker(_lab.AddClient(DhcpAttacker.RandomMac(), AttackerAddress + "/24"));

        // The INIT-REBOOT REQUEST of a client remembering another free address, with the victim's chaddr: it used to
        // move the victim's lease and free its address for the attacker.
        var elsewhere = lease.Address == "10.78.0.150" ? "10.78.0.149" : "10.78.0.150";
        var reply = attacker.Exchange(attacker.Packet(DhcpMessageType.Request, Victim,
            p => p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, Ip4.Parse(elsewhere))));
        var other = DhcpClients.Udhcpc(_lab, _lab.AddClient(DhcpAttacker.RandomMac()), request: lease.Address);
        var again = DhcpClients.Udhcpc(_lab, victim);

        Assert.Equal(DhcpMessageType.Nak, reply?.MessageType);
        Assert.Contains($"{Victim} holds {lease.Address} until", _lab.ServerLog, StringComparison.Ordinal);
        Assert.NotEqual(lease.Address, other.Address);
        Assert.Equal(lease.Address, again.Address);
    }

    private int CountLines(string text) =>
        _lab.ServerLog.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    private async Task<int> DiscoveredCountAsync()
    {
        var list = await _lab.SidusAsync("node", "discovered", "--json");
        return JsonDocument.Parse(list.Text).RootElement.GetArrayLength();
    }
}
