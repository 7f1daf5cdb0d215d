using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using Sidus.Boot.Dhcp;
using Sidus.Nodes;
using Sidus.Server.Inventory;

namespace Sidus.Server.Dhcp;

/// <summary>
/// The DHCP server's view of the inventory: a known MAC gets its node's name and fixed address; an unknown one is
/// answered with defaults (and registered as discovered) only where the network's policy says discover, and
/// ignored elsewhere. Answers come from the current snapshot in memory, as the receive loop needs.
/// </summary>
public sealed class InventoryDhcpNodeSource(InventoryView inventory, BootEventRecorder events, IPAddress servedFrom) : IDhcpNodeSource
{
    /// <summary>A PXE ROM asks several times per boot (DISCOVER, REQUEST, 4011): one DHCP event per boot is enough.</summary>
    public static readonly TimeSpan EventInterval = TimeSpan.FromSeconds(20);

    /// <summary>MACs whose last DHCP event time is remembered; past this the table starts over.</summary>
    private const int MaxRemembered = 65536;

    private readonly ConcurrentDictionary<MacAddress, long> _lastEvent = new();
    private Reservations? _reservations;

    public DhcpNodeAnswer? Find(DhcpClientInfo client)
    {
        if (!MacAddress.TryParse(client.Mac, out var mac))
        {
            return DhcpNodeAnswer.Ignored;
        }

        var snapshot = inventory.Current;
        var node = snapshot.FindByMac(mac);
        if (node is null && snapshot.ResolveUnknown(mac, servedFrom) is null)
        {
            return DhcpNodeAnswer.Ignored;
        }

        // A boot's first DHCP (PXE ROM, or an iPXE ROM) starts it; the later iPXE request falls in the interval.
        if (client.IsPxe || client.IsIpxe)
        {
            RecordStart(mac, node?.Name, client);
        }

        return node is null
            ? null
            : new DhcpNodeAnswer { NodeName = node.Name, FixedAddress = node.Ip is null ? null : Ip4.FromIPAddress(node.Ip) };
    }

    public string? ReservedFor(Ip4 address)
    {
        var snapshot = inventory.Current;
        var reservations = Volatile.Read(ref _reservations);
        if (reservations is null || reservations.Version != snapshot.Version)
        {
            reservations = new Reservations(
                snapshot.Version,
                snapshot.Nodes.Where(n => n.Ip is not null).ToFrozenDictionary(n => Ip4.FromIPAddress(n.Ip!), n => n.Macs[0].ToString()));
            Volatile.Write(ref _reservations, reservations);
        }

        return reservations.ByAddress.GetValueOrDefault(address);
    }

    public void Discovered(DhcpClientInfo client)
    {
        if (!MacAddress.TryParse(client.Mac, out var mac))
        {
            return;
        }

        var network = inventory.Current.NetworkFor(servedFrom);
        events.Discover(mac, client.Architecture?.ToString(System.Globalization.CultureInfo.InvariantCulture), network?.Name, network?.DefaultGroup);
    }

    private void RecordStart(MacAddress mac, string? node, DhcpClientInfo client)
    {
        var now = Environment.TickCount64;
        if (_lastEvent.TryGetValue(mac, out var last) && now - last < EventInterval.TotalMilliseconds)
        {
            return;
        }

        if (_lastEvent.Count >= MaxRemembered)
        {
            _lastEvent.Clear();
        }

        _lastEvent[mac] = now;
        events.Record(new BootEvent(mac, BootStage.Dhcp, DateTimeOffset.UtcNow, $"{(client.IsIpxe ? "iPXE" : "PXE ROM")}, architecture {client.Architecture?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}", node));
    }

    private sealed record Reservations(long Version, FrozenDictionary<Ip4, string> ByAddress);
}
