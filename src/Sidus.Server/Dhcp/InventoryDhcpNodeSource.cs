using System.Collections.Concurrent;
using System.Collections.Frozen;
using Sidus.Wire.Dhcp;

namespace Sidus.Server.Dhcp;

/// <summary>
/// The DHCP server's view of the inventory: a known MAC gets its node's name and fixed address; any other machine is
/// answered as the policy of its network says (the network of the relay it came through, else of the served
/// interface's address): <c>ignore</c> (and no network at all) gives an address only, <c>discover</c> and <c>boot</c> give
/// boot instructions too, and <c>discover</c> registers the machines that ask to network-boot. Answers come from the
/// current snapshot in memory, as the receive loop needs. Anyone can invent MACs, so what such machines leave in the
/// inventory is bounded: their boots are recorded (and registered) at most <see cref="DhcpSettings.UnknownRecordsPerMinute"/>
/// a minute, and the store keeps at most <see cref="DhcpSettings.Discovered"/> discovered machines.
/// </summary>
public sealed class InventoryDhcpNodeSource(
    InventoryView inventory, BootEventRecorder events, IPAddress servedFrom, DhcpSettings settings, string interfaceName, ILogger logger)
    : IDhcpNodeSource
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
    private readonly Ip4 _servedFrom = Ip4.FromIPAddress(servedFrom);
    private readonly Lock _recordsGate = new();
    private Reservations? _reservations;
    private UnknownCase? _unknown;
    private HeldBack? _heldBack;
    private long? _recordsWindowStart;
    private int _recordsLeft;
    private long _recordsRefused;

    public DhcpNodeAnswer Find(DhcpClientInfo client)
    {
        if (!MacAddress.TryParse(client.Mac, out var mac))
        {
            return DhcpNodeAnswer.Ignored($"its hardware address {client.Mac} is not an Ethernet MAC");
        }

        var snapshot = inventory.Current;
        var node = snapshot.FindByMac(mac);
        var bootClient = client.IsPxe || client.IsIpxe;
        if (node is not null)
        {
            // A boot's first DHCP (PXE ROM, or an iPXE ROM) starts it; the later iPXE request falls in the interval.
            if (bootClient && StartsBoot(mac, client))
            {
                Record(mac, node.Name, client);
            }

            return new DhcpNodeAnswer { NodeName = node.Name, FixedAddress = node.Ip is null ? null : Ip4.FromIPAddress(node.Ip) };
        }

        var unknown = Unknown(snapshot, client.Relay.IsZero ? _servedFrom : client.Relay);
        if (unknown.Answer.Boot && bootClient && StartsBoot(mac, client) && TakeUnknownRecord())
        {
            Record(mac, null, client);
            if (unknown.Network is { Unknown: UnknownMachinePolicy.Discover } network)
            {
                events.Discover(mac, client.Architecture?.ToString(CultureInfo.InvariantCulture), network.Name, network.DefaultGroup, settings.Discovered);
            }
        }

        return unknown.Answer;
    }

    public bool IsNode(string mac) => MacAddress.TryParse(mac, out var parsed) && inventory.Current.FindByMac(parsed) is not null;

    public int AddressesHeldBack(DhcpSubnet subnet)
    {
        var snapshot = inventory.Current;
        var cached = Volatile.Read(ref _heldBack);
        if (cached is not null && cached.Version == snapshot.Version && ReferenceEquals(cached.Subnet, subnet))
        {
            return cached.Count;
        }

        var withoutFixed = snapshot.Nodes.Count(n => n.Ip is null);
        var fixedInPools = snapshot.Nodes.Count(n => n.Ip is not null && subnet.InPool(Ip4.FromIPAddress(n.Ip)));
        var made = new HeldBack(snapshot.Version, subnet, withoutFixed + fixedInPools);
        Volatile.Write(ref _heldBack, made);
        return made.Count;
    }

    /// <summary>
    /// One more record of a machine that is no node allowed this minute? When the minute's budget is spent the rest
    /// are counted, and said in one line when the next minute starts.
    /// </summary>
    private bool TakeUnknownRecord()
    {
        lock (_recordsGate)
        {
            var now = Environment.TickCount64;
            if (_recordsWindowStart is not { } start || now - start >= 60_000)
            {
                if (_recordsRefused > 0)
                {
                    ServerLog.UnknownBootsUnrecorded(logger, interfaceName, settings.UnknownRecordsPerMinute, _recordsRefused);
                }

                _recordsWindowStart = now;
                _recordsLeft = settings.UnknownRecordsPerMinute;
                _recordsRefused = 0;
            }

            if (_recordsLeft > 0)
            {
                _recordsLeft--;
                return true;
            }

            if (_recordsRefused++ == 0)
            {
                ServerLog.UnknownBootsUnrecorded(logger, interfaceName, settings.UnknownRecordsPerMinute, 1);
            }

            return false;
        }
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

    /// <summary>
    /// The answer for machines that are no node, seen on <paramref name="seenOn"/>: the same for every such machine of
    /// one network, so it is made once per inventory version and address rather than per packet.
    /// </summary>
    private UnknownCase Unknown(InventorySnapshot snapshot, Ip4 seenOn)
    {
        var cached = Volatile.Read(ref _unknown);
        if (cached is not null && cached.Version == snapshot.Version && cached.SeenOn == seenOn)
        {
            return cached;
        }

        var network = snapshot.NetworkFor(seenOn.ToIPAddress());
        var answer = network is null
            ? new DhcpNodeAnswer { UnknownPolicy = $"unknown machine, no network covers {seenOn} (policy ignore)", Boot = false }
            : new DhcpNodeAnswer { UnknownPolicy = $"unknown machine, network {network.Name} policy {network.PolicyDescription}", Boot = network.BootsUnknown };
        var made = new UnknownCase(snapshot.Version, seenOn, answer, network);
        Volatile.Write(ref _unknown, made);
        return made;
    }

    /// <summary>
    /// Whether a PXE/iPXE DHCP request SINCE the last boot start of the same MAC begins a new boot: not when it is the
    /// same exchange, nor when it is the iPXE that this boot's PXE ROM just loaded. A machine whose ROM is iPXE and
    /// that reboots quickly (a diskless node is up in ~20 s) does start a new boot.
    /// </summary>
    public static bool StartsNewBoot(TimeSpan since, bool lastWasIpxe, bool isIpxe) =>
        since >= SameExchange && !(isIpxe && !lastWasIpxe && since < EventInterval);

    /// <summary>True (and remembered) when this request of <paramref name="mac"/> starts a new boot.</summary>
    private bool StartsBoot(MacAddress mac, DhcpClientInfo client)
    {
        var now = Environment.TickCount64;
        if (_lastEvent.TryGetValue(mac, out var last) && !StartsNewBoot(TimeSpan.FromMilliseconds(now - last.At), last.Ipxe, client.IsIpxe))
        {
            return false;
        }

        if (_lastEvent.Count >= MaxRemembered)
        {
            _lastEvent.Clear();
        }

        _lastEvent[mac] = (now, client.IsIpxe);
        return true;
    }

    private void Record(MacAddress mac, string? node, DhcpClientInfo client) =>
        events.Record(new BootEvent(mac, BootStage.Dhcp, DateTimeOffset.UtcNow, $"{(client.IsIpxe ? "iPXE" : "PXE ROM")}, architecture {client.Architecture?.ToString(CultureInfo.InvariantCulture) ?? "?"}", node));

    private sealed record HeldBack(long Version, DhcpSubnet Subnet, int Count);

    private sealed record Reservations(long Version, FrozenDictionary<Ip4, string> ByAddress);

    private sealed record UnknownCase(long Version, Ip4 SeenOn, DhcpNodeAnswer Answer, NetworkPolicy? Network);
}
