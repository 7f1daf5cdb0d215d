namespace Sidus.Wire.Contracts;

/// <summary>
/// What a node needs to check an export with dm-verity (format 1, SHA-256, 4096-byte blocks, no superblock): the root
/// hash, the salt, and how many data blocks precede the hash tree. The server builds it with the tree and sends it as
/// sidus.verity=<see cref="KernelArgument"/>; the agent reads it back with <see cref="TryParse"/> and the server reads
/// its export's sidecar the same way.
/// </summary>
public sealed record VerityInfo(byte[] RootHash, byte[] Salt, long DataBlocks)
{
    /// <summary>Separates the three fields of <see cref="KernelArgument"/>.</summary>
    public const char Separator = ':';

    /// <summary>Bytes of a SHA-256 root hash.</summary>
    public const int RootHashLength = 32;

    /// <summary>The salt of a version 1 dm-verity table is at most this long (the kernel's and veritysetup's limit).</summary>
    public const int MaxSaltLength = 256;

    /// <summary>"ROOTHEX:SALTHEX:DATABLOCKS", lower-case hex: the value of sidus.verity= and of an export's sidecar.</summary>
    public string KernelArgument =>
        string.Create(CultureInfo.InvariantCulture, $"{Convert.ToHexStringLower(RootHash)}{Separator}{Convert.ToHexStringLower(Salt)}{Separator}{DataBlocks}");

    /// <summary>
    /// Reads the text of <see cref="KernelArgument"/>; a malformed value gives false and says why. The salt is never
    /// empty: the kernel's verity table has no place for an empty one.
    /// </summary>
    public static bool TryParse(string text, out VerityInfo? info, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        info = null;
        var parts = text.Trim().Split(Separator);
        if (parts.Length != 3)
        {
            problem = $"expected ROOTHEX{Separator}SALTHEX{Separator}DATABLOCKS, got {parts.Length} field(s)";
            return false;
        }

        if (!TryHex(parts[0], out var root) || root.Length != RootHashLength)
        {
            problem = $"the root hash '{parts[0]}' is not {RootHashLength * 2} lower-case hex digits";
            return false;
        }

        if (!TryHex(parts[1], out var salt) || salt.Length is 0 or > MaxSaltLength)
        {
            problem = $"the salt '{parts[1]}' is not lower-case hex of 1 to {MaxSaltLength} bytes";
            return false;
        }

        if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) || blocks < 1)
        {
            problem = $"the data block count '{parts[2]}' is not a positive decimal number";
            return false;
        }

        info = new VerityInfo(root, salt, blocks);
        problem = null;
        return true;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 2 != 0 || text.Any(c => c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))))
        {
            return false;
        }

        bytes = Convert.FromHexString(text);
        return true;
    }

    public bool Equals(VerityInfo? other) =>
        other is not null && RootHash.AsSpan().SequenceEqual(other.RootHash) && Salt.AsSpan().SequenceEqual(other.Salt) && DataBlocks == other.DataBlocks;

    public override int GetHashCode() => HashCode.Combine(Convert.ToHexString(RootHash), Convert.ToHexString(Salt), DataBlocks);
}
