using Sidus.Store.Capture;
using Sidus.Store.Compression;
using Sidus.Store.Formats;
using Sidus.Store.Objects;
using Sidus.Store.Packs;

namespace Sidus.Store.Tests;

/// <summary>
/// A capture keeps the walker's block as a frame of the store only when it is one as the store makes them: one zstd
/// frame with its checksum. Other blocks that decompress just as well (two frames joined, a skippable frame in front)
/// are read, and their contents stored the usual way.
/// </summary>
public sealed class KeptBlockTests
{
    private static readonly byte[] Data = [.. Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i % 97))];

    [Fact]
    public void OneCheckedFrame_IsKept()
    {
        var (kept, read) = ReadBlock(Frame(Data));

        Assert.True(kept);
        Assert.Equal(Data, read);
    }

    [Fact]
    public void TwoFramesJoined_AreReadButNotKept()
    {
        var (kept, read) = ReadBlock([.. Frame(Data[..1000]), .. Frame(Data[1000..])]);

        Assert.False(kept);
        Assert.Equal(Data, read);
    }

    [Fact]
    public void ASkippableFrameInFront_IsReadButNotKept()
    {
        // Magic 0x184D2A50, a 4-byte length, then that many bytes the decoder skips.
        byte[] skippable = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        var (kept, read) = ReadBlock([.. skippable, .. Frame(Data)]);

        Assert.False(kept);
        Assert.Equal(Data, read);
    }

    private static byte[] Frame(byte[] raw)
    {
        var buffer = new byte[Zstd.CompressBound(raw.Length)];
        return buffer[..Zstd.Compress(raw, buffer, 1)];
    }

    /// <summary>A block of DATA as the walker frames it (kind 1, raw length, stored length), read by a server that
    /// keeps frames: whether it would keep it, and what it read.</summary>
    private static (bool Kept, byte[] Read) ReadBlock(byte[] compressed)
    {
        var wire = new ByteWriter(compressed.Length + 16);
        wire.Byte(1);
        wire.Varint((ulong)Data.Length);
        wire.Varint((ulong)compressed.Length);
        var stream = new MemoryStream([.. wire.WrittenSpan, .. compressed]);
        var frames = new List<int>();
        var reader = new BlockReader(stream) { KeptFrames = (frame, raw, objects) => frames.Add(objects.Count) };
        Assert.NotEqual(-1, reader.ReadByte());
        var read = new byte[Data.Length];
        read[0] = Data[0];
        var kept = reader.TryKeep(ObjectId.Hash(Data.AsSpan(1)), Data.Length - 1);
        reader.ReadExactly(read.AsSpan(1));
        reader.FlushKept();
        Assert.Equal(kept ? [1] : [], frames);
        return (kept, read);
    }
}
