namespace Sidus.Agent.Boot;

internal enum DiskContentKind
{
    /// <summary>Only zeroes where any filesystem, partition table or volume header would be: safe to format.</summary>
    Blank,

    /// <summary>An ext2/3/4 filesystem: mounted as ext4 and reused.</summary>
    Ext,

    /// <summary>Anything else, named when recognised: never formatted.</summary>
    Other,
}

internal readonly record struct DiskContent(DiskContentKind Kind, string Description);

/// <summary>
/// Decides whether a persistent-overlay device may be formatted by looking at its first bytes for the magic
/// numbers of the filesystems, partition tables and volume headers found on servers. The rule is the safe one:
/// only a device whose probed start is all zeroes is blank; an unrecognised non-zero start is "unknown data", not
/// blank, because formatting the wrong disk is the one mistake that cannot be undone.
/// </summary>
internal static class DiskSignature
{
    /// <summary>How much of the device is read: enough for btrfs's superblock at 64 KiB and ISO 9660's at 32 KiB.</summary>
    public const int ProbeLength = 128 * 1024;

    private const int ExtMagicOffset = 1024 + 56;
    private const ushort ExtMagic = 0xEF53;
    private const int ErofsMagicOffset = 1024;
    private const uint ErofsMagic = 0xE0F5E1E2;
    private const int BtrfsMagicOffset = 0x10040;
    private const int MdMagicOffset12 = 4096;
    private const uint MdMagic = 0xa92b4efc;
    private const int MbrSignatureOffset = 510;
    private const int SectorLength = 512;
    private const int IsoMagicOffset = 32769;
    private static readonly int[] SwapMagicOffsets = [4096 - 10, 8192 - 10, 16384 - 10, 65536 - 10];

    /// <summary>"LUKS" then 0xBA 0xBE (not a UTF-8 literal: those two are raw bytes).</summary>
    private static ReadOnlySpan<byte> LuksMagic => [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE];

    public static DiskContent Identify(ReadOnlySpan<byte> start)
    {
        if (start.Length >= ExtMagicOffset + 2 && BinaryPrimitives.ReadUInt16LittleEndian(start[ExtMagicOffset..]) == ExtMagic)
        {
            return new(DiskContentKind.Ext, "an ext2/3/4 filesystem");
        }

        if (Named(start) is { } name)
        {
            return new(DiskContentKind.Other, name);
        }

        return start.IndexOfAnyExcept((byte)0) < 0
            ? new(DiskContentKind.Blank, "blank (all zeroes)")
            : new(DiskContentKind.Other, $"unrecognised data in its first {start.Length / 1024} KiB");
    }

    /// <summary>The filesystem at the start of a volume as a layout names it (ext4 for any ext2/3/4, xfs, btrfs, vfat,
    /// swap), or "" when none of those.</summary>
    public static string FilesystemType(ReadOnlySpan<byte> s)
    {
        if (s.Length >= ExtMagicOffset + 2 && BinaryPrimitives.ReadUInt16LittleEndian(s[ExtMagicOffset..]) == ExtMagic)
        {
            return "ext4";
        }

        if (At(s, 0, "XFSB"u8))
        {
            return "xfs";
        }

        if (At(s, BtrfsMagicOffset, "_BHRfS_M"u8))
        {
            return "btrfs";
        }

        foreach (var offset in SwapMagicOffsets)
        {
            if (At(s, offset, "SWAPSPACE2"u8))
            {
                return "swap";
            }
        }

        return At(s, 0x52, "FAT32"u8) || At(s, 0x36, "FAT1"u8) ? "vfat" : string.Empty;
    }

    /// <summary>The partition table at the start of a disk: gpt, msdos, or "none".</summary>
    public static string TableType(ReadOnlySpan<byte> s) =>
        At(s, SectorLength, "EFI PART"u8) ? "gpt" :
        s.Length >= MbrSignatureOffset + 2 && s[MbrSignatureOffset] == 0x55 && s[MbrSignatureOffset + 1] == 0xAA && FilesystemType(s).Length == 0 ? "msdos" : "none";

    private static string? Named(ReadOnlySpan<byte> s)
    {
        if (At(s, 0, "XFSB"u8))
        {
            return "an XFS filesystem";
        }

        if (At(s, BtrfsMagicOffset, "_BHRfS_M"u8))
        {
            return "a btrfs filesystem";
        }

        foreach (var offset in SwapMagicOffsets)
        {
            if (At(s, offset, "SWAPSPACE2"u8) || At(s, offset, "SWAP-SPACE"u8))
            {
                return "a swap area";
            }
        }

        if (At(s, 0, LuksMagic))
        {
            return "a LUKS encrypted volume";
        }

        if (At(s, SectorLength, "EFI PART"u8))
        {
            return "a GPT partition table";
        }

        for (var sector = 0; sector < 4; sector++)
        {
            if (At(s, sector * SectorLength, "LABELONE"u8))
            {
                return "an LVM physical volume";
            }
        }

        if (U32(s, 0) == MdMagic || U32(s, MdMagicOffset12) == MdMagic)
        {
            return "a Linux RAID (md) member";
        }

        if (U32(s, ErofsMagicOffset) == ErofsMagic)
        {
            return "an EROFS filesystem";
        }

        if (At(s, 0, "hsqs"u8))
        {
            return "a squashfs filesystem";
        }

        if (At(s, IsoMagicOffset, "CD001"u8))
        {
            return "an ISO 9660 filesystem";
        }

        if (s.Length >= MbrSignatureOffset + 2 && s[MbrSignatureOffset] == 0x55 && s[MbrSignatureOffset + 1] == 0xAA)
        {
            return "an MBR partition table or boot sector (FAT, NTFS)";
        }

        return null;
    }

    private static bool At(ReadOnlySpan<byte> s, int offset, ReadOnlySpan<byte> magic) =>
        s.Length >= offset + magic.Length && s.Slice(offset, magic.Length).SequenceEqual(magic);

    private static uint? U32(ReadOnlySpan<byte> s, int offset) =>
        s.Length >= offset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(s[offset..]) : null;
}
