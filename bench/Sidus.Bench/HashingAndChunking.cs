using BenchmarkDotNet.Attributes;
using Sidus.Store.Chunking;
using Sidus.Store.Compression;
using Sidus.Store.Objects;

namespace Sidus.Bench;

/// <summary>
/// Per-core throughput of what import does to every byte: SHA-256 (the platform's, SHA-NI where the CPU has it),
/// FastCDC cut-point search, and zstd at the store's level. Throughput = 16 MiB / mean time.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 8)]
public class HashingAndChunking
{
    private const int Length = 16 << 20;
    private byte[] _random = [];
    private byte[] _text = [];
    private byte[] _compressed = [];
    private byte[] _output = [];

    [GlobalSetup]
    public void Setup()
    {
        _random = new byte[Length];
        new Random(42).NextBytes(_random);
        // Text-like data compresses like the small files of a root tree.
        _text = new byte[Length];
        var words = "the quick brown fox jumps over the lazy dog /usr/share/doc copyright GPL license "u8.ToArray();
        var r = new Random(7);
        for (var i = 0; i < Length; i++)
        {
            _text[i] = words[(i + r.Next(3)) % words.Length];
        }

        _output = new byte[Zstd.CompressBound(1 << 20)];
        _compressed = Zstd.Compress(_text.AsSpan(0, 1 << 20), Zstd.DefaultLevel);
    }

    [Benchmark(Description = "SHA-256, 16 MiB")]
    public ObjectId Sha256() => ObjectId.Hash(_random);

    [Benchmark(Description = "FastCDC cut points, 16 MiB")]
    public int FastCdcCuts()
    {
        var count = 0;
        for (var at = 0; at < _random.Length; count++)
        {
            at += FastCdc.NextCut(_random.AsSpan(at));
        }

        return count;
    }

    [Benchmark(Description = "zstd compress text, 16 x 1 MiB frames")]
    public int ZstdCompress()
    {
        var total = 0;
        for (var at = 0; at < _text.Length; at += 1 << 20)
        {
            total += Zstd.Compress(_text.AsSpan(at, 1 << 20), _output, Zstd.DefaultLevel);
        }

        return total;
    }

    [Benchmark(Description = "zstd decompress, 16 x 1 MiB frames")]
    public void ZstdDecompress()
    {
        var raw = new byte[1 << 20];
        for (var i = 0; i < 16; i++)
        {
            Zstd.Decompress(_compressed, raw);
        }
    }
}
