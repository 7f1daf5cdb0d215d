using System.Collections.Concurrent;
using System.Collections.Frozen;
using Sidus.Wire.Dhcp;

namespace Sidus.Server.Dhcp;

/// <summary>
/// The DHCP server's view of the inventory: a known MAC gets its node's name and fixed address; an unknown one is
/// answered with defaults (and registered as discovered) only where the network's policy says discover, and
/// ignored elsewhere. Answers come from the current snapshot in memory, as the receive loop needs.
/// </summary>
public sealed class InventoryDhcpNodeSource(InventoryView inventory, BootEventRecorder events, IPAddress servedFrom) : IDhcpNodeSource
{
    /// <summary>
    /// How long after a PXE ROM's DHCP the iPXE it loads still belongs to the same boot (the chain: ROM DHCP, TFTP of
    /// iPXE, iPXE DHCP).
    /// </summary>
    public static readonly TimeSpan EventInterval = TimeSpan.FromSeconds(20);

    /// <summary>One client's DISCOVER, REQUEST and 4011 request come within this: one boot, one event.</summary>
    public static readonly TimeSpan SameExchange = TimeSpan.FromSeconds(3);

    /// <summary>MACs whose last DHCP event time is remembered; past this the table starts over.</summary>
    private const int MaxRemembered = 65536;

    private readonly ConcurrentDictionary<MacAddress, (long At, bool Ipxe)> _lastEvent = new();
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

    /// <summary>
    /// Whether a PXE/iPXE DHCP request SINCE the last boot start of the same MAC begins a new boot: not when it is the
    /// same exchange, nor when it is the iPXE that this boot's PXE ROM just loaded. A machine whose ROM is iPXE and
    /// that reboots quickly (a diskless node is up in ~20 s) does start a new boot.
    /// </summary>
    public static bool StartsNewBoot(TimeSpan since, bool lastWasIpxe, bool isIpxe) =>
        since >= SameExchange && !(isIpxe && !lastWasIpxe && since < EventInterval);

    private void RecordStart(MacAddress mac, string? node, DhcpClientInfo client)
    {
        var now = Environment.TickCount64;
        if (_lastEvent.TryGetValue(mac, out var last) && !StartsNewBoot(TimeSpan.FromMilliseconds(now - last.At), last.Ipxe, client.IsIpxe))
        {
            return;
        }

        if (_lastEvent.Count >= MaxRemembered)
        {
            _lastEvent.Clear();
        }

        _lastEvent[mac] = (now, client.IsIpxe);
        events.Record(new BootEvent(mac, BootStage.Dhcp, DateTimeOffset.UtcNow, $"{(client.IsIpxe ? "iPXE" : "PXE ROM")}, architecture {client.Architecture?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}", node));
    }

    private sealed record Reservations(long Version, FrozenDictionary<Ip4, string> ByAddress);
}
