using System.Globalization;
using Sidus.Linux;

namespace Sidus.Agent.Boot;

/// <summary>
/// sidus.verity=ROOT:SALT:BLOCKS: the export is BLOCKS 4096-byte data blocks followed by its dm-verity hash tree
/// (format 1, SHA-256, no superblock), and ROOT is the tree's root hash. The boot script gives it, so every block
/// the node reads, at boot or years later, is checked against the version the server meant to serve.
/// </summary>
internal sealed record VerityParameters(string RootHash, string Salt, ulong DataBlocks)
{
    public const int BlockSize = 4096;
    private const int SectorsPerBlock = BlockSize / 512;

    /// <summary>The parameters in TEXT, or null with WHY set when they are malformed.</summary>
    public static VerityParameters? Parse(string text, out string? why)
    {
        why = null;
        var parts = text.Split(':');
        if (parts.Length == 3 && parts[0].Length == 64 && IsHex(parts[0]) && parts[1].Length is > 0 and <= 512 &&
            parts[1].Length % 2 == 0 && IsHex(parts[1]) &&
            ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) && blocks > 0)
        {
            return new VerityParameters(parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant(), blocks);
        }

        why = $"sidus.verity={text} is not ROOTHASH:SALT:DATABLOCKS (64 hex digits, hex, a block count)";
        return null;
    }

    /// <summary>The verity table over DEVICE: data blocks first, the hash tree right after them on the same device.</summary>
    public DmTarget Target(string device) => new(0, DataBlocks * SectorsPerBlock, "verity",
        $"1 {device} {device} {BlockSize} {BlockSize} {DataBlocks} {DataBlocks} sha256 {RootHash} {Salt}");

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigit);
}
