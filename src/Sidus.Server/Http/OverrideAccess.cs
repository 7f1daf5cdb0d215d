namespace Sidus.Server.Http;

/// <summary>The answer to "may this address have that node's override layer", and why.</summary>
public sealed record OverrideAccessDecision(bool Allowed, string Reason);

/// <summary>
/// Who may fetch a node's override layer, which holds its SSH private keys. The first rule that knows where the
/// node is decides:
/// 1. the node has a fixed IP: only that address;
/// 2. one of our DHCP servers has leased an address to one of the node's MACs: only that address;
/// 3. the kernel's neighbour table maps the asking address to a MAC: only if it is one of the node's;
/// 4. otherwise the server cannot tie the address to the node: refused, unless [overrides] allow-unverified.
/// Knowing (or guessing) a MAC is never enough on its own.
/// </summary>
public static class OverrideAccess
{
    public static OverrideAccessDecision Check(
        Node node,
        IPAddress? client,
        Func<MacAddress, IPAddress?> leased,
        Func<IPAddress, MacAddress?> neighbour,
        bool allowUnverified)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Check($"node {node.Name}", node.Macs, node.Ip, client, leased, neighbour, allowUnverified);
    }

    /// <summary>The same rules for a machine named WHO with MACS and, when it has one, a FIXEDIP: also what a boot
    /// ticket is issued on (docs/node-access.md).</summary>
    public static OverrideAccessDecision Check(
        string who,
        IReadOnlyCollection<MacAddress> macs,
        IPAddress? fixedIp,
        IPAddress? client,
        Func<MacAddress, IPAddress?> leased,
        Func<IPAddress, MacAddress?> neighbour,
        bool allowUnverified)
    {
        ArgumentNullException.ThrowIfNull(macs);
        ArgumentNullException.ThrowIfNull(leased);
        ArgumentNullException.ThrowIfNull(neighbour);
        if (client is null)
        {
            return new(false, "the asking address is unknown");
        }

        if (fixedIp is not null)
        {
            return fixedIp.Equals(client)
                ? new(true, $"{client} is {who}'s fixed address")
                : new(false, $"{who} is expected at its fixed address {fixedIp}, not {client}");
        }

        foreach (var mac in macs)
        {
            if (leased(mac) is { } lease)
            {
                return lease.Equals(client)
                    ? new(true, $"{client} is leased to {mac}")
                    : new(false, $"{who} ({mac}) holds the lease for {lease}, not {client}");
            }
        }

        if (neighbour(client) is { } seen)
        {
            return macs.Contains(seen)
                ? new(true, $"{client} is {seen} in the neighbour table")
                : new(false, $"{client} is {seen} in the neighbour table, not one of {who}'s MACs");
        }

        return allowUnverified
            ? new(true, $"{client} is not tied to {who}, served because [overrides] allow-unverified = true")
            : new(false, $"the server cannot tie {client} to {who} (no fixed IP, no lease of ours, not in the neighbour table): " +
                         "give it a fixed address (sidus node set --ip) or set [overrides] allow-unverified = true");
    }
}
