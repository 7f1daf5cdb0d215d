using Sidus.Store.Capture;

namespace Sidus.Store.Tests;

/// <summary>
/// The walker compresses its blocks on several threads at once: what travels must be exactly what one thread sends,
/// block for block, whichever block is done first.
/// </summary>
public sealed class BlockWriterTests
{
    [Fact]
    public void SeveralCompressors_SendTheBlocksOfOne_InTheirOrder()
    {
        var single = Send(compressors: 1);
        var several = Send(compressors: 4);

        Assert.Equal(single, several);
        Assert.Equal(Stream(), ReadBack(several));
    }

    [Fact]
    public void AFailedWrite_IsReported_NotLost()
    {
        var writer = new BlockWriter(new FailingStream(), compressors: 4);

        var e = Assert.Throws<IOException>(() =>
        {
            foreach (var (keep, data) in Runs())
            {
                writer.KeepTogether(keep);
                writer.Write(data);
            }

            writer.Flush();
        });
        Assert.Equal("the link is gone", e.Message);
    }

    /// <summary>Runs of unlike sizes and kinds: a block of random bytes (sent raw) takes longer than one of zeros,
    /// so blocks finish out of their order; runs over a block's size are split.</summary>
    private static List<(long Keep, byte[] Data)> Runs()
    {
        var random = new Random(10);
        var runs = new List<(long, byte[])>();
        foreach (var length in new[] { 100, 900_000, 300_000, 3_000_000, 20, 700_000, 1_048_576, 5, 2_500_000, 64_000 })
        {
            var data = new byte[length];
            if (runs.Count % 2 == 0)
            {
                random.NextBytes(data);
            }
            else
            {
                data.AsSpan().Fill((byte)runs.Count);
            }

            runs.Add((length, data));
        }

        return runs;
    }

    private static byte[] Stream() => [.. Runs().SelectMany(r => r.Data)];

    private static byte[] Send(int compressors)
    {
        var wire = new MemoryStream();
        var writer = new BlockWriter(wire, compressors: compressors);
        foreach (var (keep, data) in Runs())
        {
            writer.KeepTogether(keep);
            writer.Write(data);
        }

        writer.Flush();
        Assert.Equal(wire.Length, writer.WireBytes);
        return wire.ToArray();
    }

    private static byte[] ReadBack(byte[] wire)
    {
        var read = new MemoryStream();
        new BlockReader(new MemoryStream(wire)).CopyTo(read);
        return read.ToArray();
    }

    private sealed class FailingStream : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("the link is gone");

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("the link is gone");
    }
}
