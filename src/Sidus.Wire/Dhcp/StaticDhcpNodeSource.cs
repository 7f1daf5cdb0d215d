using System.Collections.Concurrent;

namespace Sidus.Wire.Dhcp;

/// <summary>A node source from a MAC → answer table, replaceable at run time; every other machine gets
/// <see cref="Unknown"/> and is recorded in <see cref="DiscoveredClients"/>.</summary>
public sealed class StaticDhcpNodeSource : IDhcpNodeSource
{
    private volatile Snapshot _snapshot = new(new Dictionary<string, DhcpNodeAnswer>(StringComparer.OrdinalIgnoreCase), []);
    private readonly ConcurrentDictionary<string, DhcpClientInfo> _discovered = new(StringComparer.OrdinalIgnoreCase);

    public StaticDhcpNodeSource(IEnumerable<KeyValuePair<string, DhcpNodeAnswer>>? nodes = null, DhcpNodeAnswer? unknown = null)
    {
        Unknown = unknown ?? DhcpNodeAnswer.UnknownWithDefaults;
        Replace(nodes ?? []);
    }

    /// <summary>The answer for machines that are not in the table.</summary>
    public DhcpNodeAnswer Unknown { get; }

    public IReadOnlyDictionary<string, DhcpClientInfo> DiscoveredClients => _discovered;

    /// <summary>Swaps in a whole new table at once (an inventory reload).</summary>
    public void Replace(IEnumerable<KeyValuePair<string, DhcpNodeAnswer>> nodes)
    {
        var byMac = new Dictionary<string, DhcpNodeAnswer>(StringComparer.OrdinalIgnoreCase);
        var reserved = new Dictionary<Ip4, string>();
        foreach (var (mac, answer) in nodes)
        {
            byMac[mac.ToLowerInvariant()] = answer;
            if (answer.FixedAddress is { } address)
                reserved[address] = mac.ToLowerInvariant();
        }
        _snapshot = new Snapshot(byMac, reserved);
    }

    public DhcpNodeAnswer Find(DhcpClientInfo client)
    {
        if (_snapshot.ByMac.TryGetValue(client.Mac, out var answer))
            return answer;
        _discovered[client.Mac] = client;
        return Unknown;
    }

    public string? ReservedFor(Ip4 address) => _snapshot.Reserved.GetValueOrDefault(address);

    public bool IsNode(string mac) => _snapshot.ByMac.ContainsKey(mac);

    public int AddressesHeldBack(DhcpSubnet subnet)
    {
        var snapshot = _snapshot;
        return snapshot.ByMac.Values.Count(a => a.FixedAddress is null) + snapshot.Reserved.Keys.Count(subnet.InPool);
    }

    private sealed record Snapshot(Dictionary<string, DhcpNodeAnswer> ByMac, Dictionary<Ip4, string> Reserved);
}
