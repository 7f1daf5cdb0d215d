namespace Sidus.Wire.Dhcp;

/// <summary>The per-node decisions the DHCP server asks for; the server host adapts the inventory to it.
/// Called from the server's receive loop: answer from memory, quickly, and thread-safely.</summary>
public interface IDhcpNodeSource
{
    /// <summary>The answer for a known machine, or null when the machine is unknown (the server then applies its
    /// <see cref="UnknownClientPolicy"/>).</summary>
    DhcpNodeAnswer? Find(DhcpClientInfo client);

    /// <summary>The MAC an address is reserved for, or null: pool addresses reserved for others are never offered.</summary>
    string? ReservedFor(Ip4 address);

    /// <summary>Told about an unknown machine the server answered with defaults, so it can be registered.</summary>
    void Discovered(DhcpClientInfo client)
    {
    }
}
