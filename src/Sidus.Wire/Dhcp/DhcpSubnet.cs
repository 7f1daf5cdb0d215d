namespace Sidus.Wire.Dhcp;

/// <summary>A subnet the server gives addresses in: directly attached, or reached through a relay whose giaddr
/// lies in it. Router, DNS and domain fall back to the server-wide values when not set here.</summary>
public sealed record DhcpSubnet(Ip4 Network, Ip4 Mask, IReadOnlyList<DhcpPool> Pools)
{
    public Ip4? Router { get; init; }

    public IReadOnlyList<Ip4>? DnsServers { get; init; }

    public string? DomainName { get; init; }

    public bool Contains(Ip4 address) => address.IsInSubnet(Network, Mask);

    public bool InPool(Ip4 address)
    {
        foreach (var pool in Pools)
        {
            if (pool.Contains(address))
                return true;
        }
        return false;
    }

    public Ip4 BroadcastAddress => new((Network.Value & Mask.Value) | ~Mask.Value);
}
