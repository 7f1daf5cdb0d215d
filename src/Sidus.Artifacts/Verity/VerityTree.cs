using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Sidus.Artifacts.Verity;

/// <summary>
/// Builds the hash tree the kernel's dm-verity target (format 1) checks a read-only file against, byte for byte what
/// <c>veritysetup format --no-superblock --format=1 --hash=sha256 --data-block-size=4096 --hash-block-size=4096</c>
/// writes: every hash is SHA-256(salt || block); level 0 hashes the data blocks, 128 to a hash block (the last one
/// zero-padded), each higher level hashes the level below until a level is one block; the root hash is the hash of
/// that block (of the only data block when there is one). The levels are stored top first, the leaf level last.
/// </summary>
public static class VerityTree
{
    public const int BlockSize = 4096;
    public const int HashLength = SHA256.HashSizeInBytes;
    public const int HashesPerBlock = BlockSize / HashLength;

    /// <summary>Blocks read per call: big reads keep a cold page cache streaming.</summary>
    private const int ReadBlocks = 256;

    /// <summary>
    /// Pads FILE with zeros to a multiple of <see cref="BlockSize"/>, appends the hash tree right after the data (no
    /// superblock: the tree starts at block <see cref="VerityInfo.DataBlocks"/>), makes it durable, and returns what a
    /// reader needs to check it. Reads the file in a streaming fashion: memory use does not grow with its size.
    /// </summary>
    /// <exception cref="IOException">FILE is empty or cannot be read or written.</exception>
    public static VerityInfo Append(string path, byte[] salt, CancellationToken cancellation)
    {
        if (salt.Length is 0 or > VerityInfo.MaxSaltLength)
        {
            throw new ArgumentException($"a dm-verity salt is 1 to {VerityInfo.MaxSaltLength} bytes, got {salt.Length}", nameof(salt));
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            throw new IOException($"{path} is empty: there is nothing for dm-verity to check");
        }

        var dataBlocks = (length + BlockSize - 1) / BlockSize;
        var levels = LevelBlocks(dataBlocks);
        RandomAccess.SetLength(handle, (dataBlocks + levels.Sum()) * BlockSize);

        // Level i is stored after every level above it; the leaf level (i = 0) is last.
        var levelStart = new long[levels.Count];
        var next = dataBlocks;
        for (var i = levels.Count - 1; i >= 0; i--)
        {
            levelStart[i] = next;
            next += levels[i];
        }

        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var source = 0L;
        var sourceBlocks = dataBlocks;
        for (var i = 0; i < levels.Count; i++)
        {
            HashLevel(handle, hasher, salt, source, sourceBlocks, levelStart[i], cancellation);
            source = levelStart[i];
            sourceBlocks = levels[i];
        }

        var top = new byte[BlockSize];
        ReadExactly(handle, top, source * BlockSize);
        var root = new byte[HashLength];
        HashBlock(hasher, salt, top, root);

        FileOps.Fsync(handle);
        return new VerityInfo(root, [.. salt], dataBlocks);
    }

    /// <summary>How many hash blocks the tree of DATABLOCKS data blocks takes (zero for a single data block).</summary>
    public static long HashBlocks(long dataBlocks) => LevelBlocks(dataBlocks).Sum();

    /// <summary>The block count of each level, leaf level first; empty when one data block is its own root.</summary>
    public static IReadOnlyList<long> LevelBlocks(long dataBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dataBlocks);
        var levels = new List<long>();
        for (var n = dataBlocks; n > 1;)
        {
            n = (n + HashesPerBlock - 1) / HashesPerBlock;
            levels.Add(n);
        }

        return levels;
    }

    /// <summary>Hashes BLOCKS blocks from block FROM into hash blocks written from block TO on.</summary>
    private static void HashLevel(SafeFileHandle handle, IncrementalHash hasher, byte[] salt, long from, long blocks, long to, CancellationToken cancellation)
    {
        var input = new byte[ReadBlocks * BlockSize];
        var output = new byte[BlockSize];
        var filled = 0;
        for (var done = 0L; done < blocks;)
        {
            cancellation.ThrowIfCancellationRequested();
            var count = (int)Math.Min(ReadBlocks, blocks - done);
            ReadExactly(handle, input.AsSpan(0, count * BlockSize), (from + done) * BlockSize);
            for (var b = 0; b < count; b++)
            {
                HashBlock(hasher, salt, input.AsSpan(b * BlockSize, BlockSize), output.AsSpan(filled * HashLength, HashLength));
                if (++filled == HashesPerBlock)
                {
                    RandomAccess.Write(handle, output, to++ * BlockSize);
                    filled = 0;
                }
            }

            done += count;
        }

        if (filled > 0)
        {
            output.AsSpan(filled * HashLength).Clear();
            RandomAccess.Write(handle, output, to * BlockSize);
        }
    }

    private static void HashBlock(IncrementalHash hasher, byte[] salt, ReadOnlySpan<byte> block, Span<byte> hash)
    {
        hasher.AppendData(salt);
        hasher.AppendData(block);
        hasher.GetHashAndReset(hash);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            var n = RandomAccess.Read(handle, buffer, offset);
            if (n == 0)
            {
                throw new IOException($"the file ended at byte {offset} while its hash tree was being built (it changed meanwhile?)");
            }

            buffer = buffer[n..];
            offset += n;
        }
    }
}
