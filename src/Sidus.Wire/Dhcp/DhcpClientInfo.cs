namespace Sidus.Wire.Dhcp;

/// <summary>What the server knows about a client when it asks the node source: the MAC (lower-case, colon hex),
/// the PXE architecture (option 93) when sent, whether it is a PXE ROM or already iPXE, its vendor class, and the
/// relay it came through (giaddr; 0.0.0.0 when it is on the served interface itself).</summary>
public readonly record struct DhcpClientInfo(
    string Mac,
    ushort? Architecture,
    bool IsPxe,
    bool IsIpxe,
    string? VendorClass,
    string? HostName,
    Ip4 Relay = default);
