using System.Collections.Concurrent;

namespace Sidus.Server.Http;

/// <summary>
/// Which machine last fetched a boot script from each address. Kernel URLs are per version, not per node (so every
/// cache can share them): this is how a kernel download is still recorded against the node that asked for it.
/// </summary>
public sealed class RecentClients
{
    /// <summary>Addresses remembered; past this the table starts over (older entries only serve event records).</summary>
    public const int Capacity = 65536;

    private readonly ConcurrentDictionary<IPAddress, (MacAddress Mac, string? Node)> _byAddress = new();

    public void Remember(IPAddress? address, MacAddress mac, string? node)
    {
        if (address is null)
        {
            return;
        }

        if (_byAddress.Count >= Capacity)
        {
            _byAddress.Clear();
        }

        _byAddress[address] = (mac, node);
    }

    public bool TryGet(IPAddress? address, out MacAddress mac, out string? node)
    {
        if (address is not null && _byAddress.TryGetValue(address, out var known))
        {
            (mac, node) = known;
            return true;
        }

        mac = default;
        node = null;
        return false;
    }
}
