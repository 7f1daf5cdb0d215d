namespace Sidus.Wire.Dhcp;

/// <summary>The iPXE binaries handed to firmware PXE ROMs, by client architecture (RFC 4578 option 93), as paths
/// relative to the TFTP root. Defaults follow Debian's <c>ipxe</c> package names.</summary>
public sealed record DhcpBootFiles
{
    /// <summary>Arch 0 (BIOS). undionly.kpxe rather than ipxe.pxe: the latter broke some HP servers.</summary>
    public string Bios { get; init; } = "undionly.kpxe";

    /// <summary>Arch 7 and 9 (x86-64 UEFI; RFC 4578 swapped them and old U-Boot sends 9).</summary>
    public string EfiX64 { get; init; } = "snponly.efi";

    /// <summary>Arch 6 (IA32 UEFI).</summary>
    public string EfiIa32 { get; init; } = "i386-efi/ipxe.efi";

    /// <summary>Arch 10 and 11 (ARM UEFI).</summary>
    public string Arm64 { get; init; } = "arm64-efi/snp.efi";

    /// <summary>The file for an architecture, or null for one we have nothing for.</summary>
    public string? ForArchitecture(ushort architecture) => architecture switch
    {
        0 => Bios,
        6 => EfiIa32,
        7 or 9 => EfiX64,
        10 or 11 => Arm64,
        _ => null,
    };
}
