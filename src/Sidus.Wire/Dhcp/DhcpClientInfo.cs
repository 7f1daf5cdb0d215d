namespace Sidus.Wire.Dhcp;

/// <summary>What the server knows about a client when it asks the node source: the MAC (lower-case, colon hex),
/// the PXE architecture (option 93) when sent, whether it is a PXE ROM or already iPXE, and its vendor class.</summary>
public readonly record struct DhcpClientInfo(
    string Mac,
    ushort? Architecture,
    bool IsPxe,
    bool IsIpxe,
    string? VendorClass,
    string? HostName);
