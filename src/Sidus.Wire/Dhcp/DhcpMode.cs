namespace Sidus.Wire.Dhcp;

public enum DhcpMode
{
    /// <summary>No DHCP service at all.</summary>
    Off = 0,
    /// <summary>Addresses and boot information.</summary>
    Full = 1,
    /// <summary>proxyDHCP: boot information for PXE clients only, never an address (another server owns them).</summary>
    Proxy = 2,
}
