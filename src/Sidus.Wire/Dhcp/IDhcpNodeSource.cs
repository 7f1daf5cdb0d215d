namespace Sidus.Wire.Dhcp;

/// <summary>The per-machine decisions the DHCP server asks for; the server host adapts the inventory to it.
/// Called from the server's receive loop: answer from memory, quickly, and thread-safely.</summary>
public interface IDhcpNodeSource
{
    /// <summary>The answer for <paramref name="client"/>, a node or not: for a machine that is no node the source
    /// applies its policy (an address only, or boot instructions too) and says which in
    /// <see cref="DhcpNodeAnswer.UnknownPolicy"/>.</summary>
    DhcpNodeAnswer Find(DhcpClientInfo client);

    /// <summary>The MAC an address is reserved for, or null: pool addresses reserved for others are never offered.</summary>
    string? ReservedFor(Ip4 address);

    /// <summary>True when <paramref name="mac"/> is a node's.</summary>
    bool IsNode(string mac);

    /// <summary>How many addresses of <paramref name="subnet"/>'s pools are kept from machines that are no node:
    /// one for each node without a fixed address (it may need one from the pool), plus the fixed addresses that lie
    /// inside the pools (never given to anyone else).</summary>
    int AddressesHeldBack(DhcpSubnet subnet);
}
