using System.Collections.Concurrent;

namespace Sidus.Wire.Dhcp;

/// <summary>A node source from a MAC → answer table, replaceable at run time; records discovered machines.</summary>
public sealed class StaticDhcpNodeSource : IDhcpNodeSource
{
    private volatile Snapshot _snapshot = new(new Dictionary<string, DhcpNodeAnswer>(StringComparer.OrdinalIgnoreCase), []);
    private readonly ConcurrentDictionary<string, DhcpClientInfo> _discovered = new(StringComparer.OrdinalIgnoreCase);

    public StaticDhcpNodeSource(IEnumerable<KeyValuePair<string, DhcpNodeAnswer>>? nodes = null) => Replace(nodes ?? []);

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

    public DhcpNodeAnswer? Find(DhcpClientInfo client) => _snapshot.ByMac.GetValueOrDefault(client.Mac);

    public string? ReservedFor(Ip4 address) => _snapshot.Reserved.GetValueOrDefault(address);

    public void Discovered(DhcpClientInfo client) => _discovered[client.Mac] = client;

    private sealed record Snapshot(Dictionary<string, DhcpNodeAnswer> ByMac, Dictionary<Ip4, string> Reserved);
}
