using System.Runtime.CompilerServices;

namespace Sidus.Store.Chunking;

/// <summary>
/// FastCDC content-defined chunking (Xia et al., 2016/2020) with normalized chunking (level 2): a gear rolling hash,
/// a harder mask before the average size and an easier one after it. Cut points depend only on content, so an
/// insertion moves the chunks around it and leaves the rest shared.
/// The gear table and masks are part of the store format: changing them changes every chunk id.
/// </summary>
public static class FastCdc
{
    public const int MinSize = 16 * 1024;
    public const int AverageSize = 64 * 1024;
    public const int MaxSize = 256 * 1024;

    // Top bits of the hash carry the most history; 18 bits before the average, 14 after (normalization level 2).
    private const ulong MaskHard = 0xFFFFC00000000000UL;
    private const ulong MaskEasy = 0xFFFC000000000000UL;

    private static readonly ulong[] Gear = BuildGear();

    /// <summary>
    /// The length of the next chunk at the start of DATA. When DATA is shorter than <see cref="MaxSize"/> and more
    /// input may follow, callers must supply more before cutting (see <see cref="Chunker"/>); at the end of input the
    /// rest is one chunk.
    /// </summary>
    public static int NextCut(ReadOnlySpan<byte> data)
    {
        var length = data.Length;
        if (length <= MinSize)
        {
            return length;
        }

        var end = Math.Min(length, MaxSize);
        var normal = Math.Min(end, AverageSize);
        ulong hash = 0;
        var i = MinSize;
        ref var gear = ref Gear[0];
        for (; i < normal; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, data[i]);
            if ((hash & MaskHard) == 0)
            {
                return i + 1;
            }
        }

        for (; i < end; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, data[i]);
            if ((hash & MaskEasy) == 0)
            {
                return i + 1;
            }
        }

        return end;
    }

    private static ulong[] BuildGear()
    {
        // Derived, not random: SHA-256 of "sidus-fastcdc-gear" + the byte value, first 8 bytes big-endian.
        var table = new ulong[256];
        Span<byte> input = stackalloc byte[19];
        "sidus-fastcdc-gear"u8.CopyTo(input);
        Span<byte> digest = stackalloc byte[32];
        for (var i = 0; i < 256; i++)
        {
            input[18] = (byte)i;
            SHA256.HashData(input, digest);
            table[i] = BinaryPrimitives.ReadUInt64BigEndian(digest);
        }

        return table;
    }
}

/// <summary>
/// Cuts a stream into FastCDC chunks, holding at most a few maximum-size chunks in memory: a pooled buffer, since a
/// fresh megabyte for every large file of an import or capture was fresh memory to fault in each time.
/// </summary>
public sealed class Chunker : IDisposable
{
    private const int BufferSize = 4 * FastCdc.MaxSize;
    private readonly Stream _source;
    private readonly byte[] _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;
    private bool _eof;
    private bool _disposed;

    public Chunker(Stream source) => _source = source;

    /// <summary>The next chunk, valid until the next call; empty at the end.</summary>
    public ReadOnlyMemory<byte> Next()
    {
        if (_end - _start < FastCdc.MaxSize && !_eof)
        {
            Fill();
        }

        if (_start == _end)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var length = FastCdc.NextCut(_buffer.AsSpan(_start, _end - _start));
        var chunk = new ReadOnlyMemory<byte>(_buffer, _start, length);
        _start += length;
        return chunk;
    }

    /// <summary>Gives the buffer back: the last chunk handed out is no longer valid.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    private void Fill()
    {
        Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
        while (_end < BufferSize)
        {
            var n = _source.Read(_buffer, _end, BufferSize - _end);
            if (n == 0)
            {
                _eof = true;
                break;
            }

            _end += n;
        }
    }
}
