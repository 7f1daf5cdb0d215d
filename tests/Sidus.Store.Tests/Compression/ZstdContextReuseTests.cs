using System.Security.Cryptography;
using Sidus.Store.Compression;

namespace Sidus.Store.Tests.Compression;

/// <summary>
/// <see cref="ZstdDecompressStream"/> keeps its decompression contexts for the next streams: a stream given up inside
/// a frame, or one that met corrupt data, must leave nothing of its frame to the stream that takes its context next.
/// </summary>
public sealed class ZstdContextReuseTests
{
    private static readonly byte[] First = RandomNumberGenerator.GetBytes(3 << 20);
    private static readonly byte[] Second = [.. Enumerable.Range(0, 2 << 20).Select(i => (byte)(i % 251))];

    [Fact]
    public void AStreamLeftInsideAFrame_DoesNotDisturbTheNext()
    {
        // More streams left half-read than contexts are kept: every kept one has been left inside a frame.
        var compressed = Zstd.Compress(First, 3);
        var abandoned = Enumerable.Range(0, Environment.ProcessorCount + 4).Select(_ => new ZstdDecompressStream(compressed.AsMemory(), "first")).ToList();
        var piece = new byte[64 * 1024];
        foreach (var stream in abandoned)
        {
            Assert.Equal(piece.Length, stream.Read(piece));
        }

        abandoned.ForEach(s => s.Dispose());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Second, ReadAll(Zstd.Compress(Second, 3), "second"));
        }
    }

    [Fact]
    public void AStreamThatMetCorruptData_DoesNotDisturbTheNext()
    {
        // A whole frame, then bytes that are no frame: the context fails where a next frame should start.
        byte[] corrupt = [.. Zstd.Compress(Second, 3), .. RandomNumberGenerator.GetBytes(4096)];
        var error = Assert.Throws<StoreException>(() => ReadAll(corrupt, "corrupt"));
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);

        Assert.Equal(First, ReadAll(Zstd.Compress(First, 3), "first"));
    }

    [Fact]
    public void StreamsOnManyThreadsAtOnce_EachGetTheirOwnData()
    {
        var inputs = Enumerable.Range(0, 16).Select(i => RandomNumberGenerator.GetBytes((1 << 20) + (i * 4099))).ToList();
        var compressed = inputs.Select(i => Zstd.Compress(i, 3)).ToList();
        Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => Assert.Equal(inputs[i], ReadAll(compressed[i], $"input {i}")));
    }

    private static byte[] ReadAll(byte[] compressed, string label)
    {
        using var stream = new ZstdDecompressStream(compressed.AsMemory(), label);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }
}
