using System.Buffers;
using Sidus.Store.Compression;
using Sidus.Store.Formats;

namespace Sidus.Store.Capture;

/// <summary>
/// The walker's half of the capture's byte stream: records are gathered into blocks of about
/// <see cref="CaptureProtocol.BlockTarget"/> bytes (up to <see cref="CaptureProtocol.MaxBlock"/> to hold a content
/// whole), each sent as one zstd frame (or raw, where libzstd is missing or the data does not shrink). Block header:
/// kind byte (0 raw, 1 zstd), varint raw length, varint stored length.
/// </summary>
/// <param name="compressors">Blocks compressed at once, on the thread pool, and sent in their order. One compressor
/// (the writer's own thread) made a capture's contents go no faster than one core compresses: 165 MB/s of a root
/// tree's files, slower than the reading, the link and the server together.</param>
public sealed class BlockWriter(Stream output, int level = CaptureProtocol.WireLevel, int compressors = 1) : Stream
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(CaptureProtocol.MaxBlock);
    private int _used;

    // Blocks being compressed, oldest first: written out in this order whatever order they finish in.
    private readonly Queue<Task<PackedBlock>> _compressing = new();

    // The block is not sent before this many bytes are in it (the end of a run kept together).
    private int _keepUntil;

    // The block holds part of a run too long for one block: the next run starts a block of its own.
    private bool _split;

    /// <summary>Bytes written to the underlying stream so far (headers and compressed data).</summary>
    public long WireBytes { get; private set; }

    /// <summary>
    /// The next LENGTH bytes (a content and its record) go into one block when they fit in one, and a run too long
    /// for one has blocks of its own: the server then stores each block that holds whole contents as it came, with
    /// no second compression (<see cref="BlockReader.TryKeep"/>).
    /// </summary>
    public void KeepTogether(long length)
    {
        if (_split || length > CaptureProtocol.MaxBlock || _used + length > CaptureProtocol.MaxBlock)
        {
            SendBlock();
        }

        _split = length > CaptureProtocol.MaxBlock;
        _keepUntil = _split ? 0 : _used + (int)length;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, CaptureProtocol.MaxBlock - _used);
            buffer[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            buffer = buffer[n..];
            if (_used == CaptureProtocol.MaxBlock || (_used >= CaptureProtocol.BlockTarget && _used >= _keepUntil))
            {
                SendBlock();
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Sends what is gathered and flushes the underlying stream: the reader can act on it now.</summary>
    public override void Flush()
    {
        SendBlock();
        while (_compressing.Count > 0)
        {
            WriteOut(_compressing.Dequeue());
        }

        output.Flush();
    }

    private void SendBlock()
    {
        if (_used == 0)
        {
            return;
        }

        var raw = _buffer;
        var used = _used;
        _buffer = ArrayPool<byte>.Shared.Rent(CaptureProtocol.MaxBlock);
        _used = 0;
        _keepUntil = 0;
        if (compressors <= 1)
        {
            WriteOut(Task.FromResult(Pack(raw, used, level)));
            return;
        }

        _compressing.Enqueue(Task.Run(() => Pack(raw, used, level)));
        // The oldest goes out as soon as it is done, and is waited for once every compressor is busy.
        while (_compressing.Count > 0 && (_compressing.Count > compressors || _compressing.Peek().IsCompleted))
        {
            WriteOut(_compressing.Dequeue());
        }
    }

    /// <summary>A block as it travels: its header, then STORED (the compressed bytes, or the raw ones).</summary>
    private sealed record PackedBlock(byte[] Header, byte[] Raw, byte[]? Compressed, int Stored);

    /// <summary>RAW's first USED bytes as a block: compressed, or raw where that does not shrink them or zstd fails
    /// (a block lost there would leave the stream cut mid-record, and the walker's own failure unreadable).</summary>
    private static PackedBlock Pack(byte[] raw, int used, int level)
    {
        var compressed = Zstd.Available ? ArrayPool<byte>.Shared.Rent(Zstd.CompressBound(used)) : null;
        var stored = int.MaxValue;
        if (compressed is not null)
        {
            try
            {
                stored = Zstd.Compress(raw.AsSpan(0, used), compressed, level);
            }
            catch (InvalidOperationException)
            {
            }

            if (stored >= used)
            {
                ArrayPool<byte>.Shared.Return(compressed);
                compressed = null;
            }
        }

        var header = new ByteWriter(16);
        header.Byte(compressed is null ? (byte)0 : (byte)1);
        header.Varint((ulong)used);
        header.Varint((ulong)(compressed is null ? used : stored));
        return new PackedBlock(header.WrittenSpan.ToArray(), raw, compressed, compressed is null ? used : stored);
    }

    private void WriteOut(Task<PackedBlock> compressing)
    {
        var block = compressing.GetAwaiter().GetResult();
        try
        {
            output.Write(block.Header);
            output.Write((block.Compressed ?? block.Raw).AsSpan(0, block.Stored));
            WireBytes += block.Header.Length + block.Stored;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block.Raw);
            if (block.Compressed is not null)
            {
                ArrayPool<byte>.Shared.Return(block.Compressed);
            }
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A compressed block the reader is done with, and the objects kept in it (offsets in its raw bytes).</summary>
public delegate void KeptFrameSink(ReadOnlySpan<byte> compressed, int rawLength, IReadOnlyList<Packs.PendingObject> objects);

/// <summary>
/// The server's half: reads the walker's blocks and hands out their bytes. A block that claims more than
/// <see cref="CaptureProtocol.MaxBlock"/> bytes, or does not decompress to what it claims, is refused.
/// </summary>
public sealed class BlockReader(Stream input) : Formats.ReadOnlyStream
{
    // Both reused from block to block (a block is handed out whole before the next is read): a fresh pair for each
    // block was fresh memory to fault in for every byte of a capture.
    private byte[] _block = [];
    private byte[] _stored = [];
    private int _position;
    private int _length;
    private int _storedLength;
    private bool _compressed;
    private readonly List<Packs.PendingObject> _kept = [];

    /// <summary>Bytes read from the underlying stream so far.</summary>
    public long WireBytes { get; private set; }

    /// <summary>Where each block that holds kept objects goes, compressed as it came, once the reader leaves it.</summary>
    public KeptFrameSink? KeptFrames { get; set; }

    /// <summary>
    /// Keeps the next LENGTH bytes as object ID in the current block's compressed frame, when they lie whole inside a
    /// compressed block: that block is then stored as it came, with no second compression. False otherwise (the
    /// caller stores the bytes itself). The caller still reads the bytes, and checks them before anything commits.
    /// </summary>
    public bool TryKeep(ObjectId id, int length)
    {
        if (KeptFrames is null || !_compressed || length <= 0 || length > _length - _position)
        {
            return false;
        }

        _kept.Add(new Packs.PendingObject(id, ObjectKind.Blob, _position, length));
        return true;
    }

    /// <summary>Hands the current block's kept objects to <see cref="KeptFrames"/> (the last block has no next one
    /// to start it).</summary>
    public void FlushKept()
    {
        if (_kept.Count > 0)
        {
            KeptFrames?.Invoke(_stored.AsSpan(0, _storedLength), _length, _kept);
            _kept.Clear();
        }
    }

    public override int ReadByte() => _position < _length || NextBlock() ? _block[_position++] : -1;

    public override int Read(Span<byte> buffer)
    {
        if (_position == _length && !NextBlock())
        {
            return 0;
        }

        var n = Math.Min(buffer.Length, _length - _position);
        _block.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private bool NextBlock()
    {
        FlushKept();
        _compressed = false;
        var kind = input.ReadByte();
        if (kind < 0)
        {
            return false;
        }

        WireBytes++;
        var raw = ReadLength();
        var stored = ReadLength();
        if (kind > 1 || (kind == 0 && stored != raw) || raw == 0)
        {
            throw new CaptureRefusedException($"the walker sent a malformed block (kind {kind}, {raw} bytes in {stored})");
        }

        var data = (kind == 0 ? Room(ref _block, raw) : Room(ref _stored, stored)).AsSpan(0, stored);
        try
        {
            input.ReadExactly(data);
        }
        catch (EndOfStreamException)
        {
            throw Stopped();
        }

        WireBytes += stored;
        if (kind == 1)
        {
            try
            {
                Zstd.Decompress(data, Room(ref _block, raw).AsSpan(0, raw));
            }
            catch (CorruptObjectException e)
            {
                throw new CaptureRefusedException($"the walker sent a block that does not decompress: {e.Message}");
            }
        }

        _position = 0;
        _length = raw;
        _storedLength = stored;
        // Kept as a frame of the store only when it is one as the store makes them (one frame, checksummed).
        _compressed = kind == 1 && KeptFrames is not null && Zstd.IsOneCheckedFrame(_stored.AsSpan(0, stored));
        return true;
    }

    /// <summary>BUFFER, replaced by a larger one when it holds fewer than LENGTH bytes (a block is at most
    /// <see cref="CaptureProtocol.MaxBlock"/>).</summary>
    private static byte[] Room(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, CaptureProtocol.BlockTarget)];
        }

        return buffer;
    }

    private int ReadLength()
    {
        ulong value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = input.ReadByte();
            if (b < 0)
            {
                throw Stopped();
            }

            WireBytes++;
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value <= CaptureProtocol.MaxBlock
                    ? (int)value
                    : throw new CaptureRefusedException($"the walker sent a block of {value} bytes (at most {CaptureProtocol.MaxBlock})");
            }
        }

        throw new CaptureRefusedException("the walker sent a block length that never ends");
    }

    /// <summary>The stream ended inside a block: a walker killed or cut off mid-write, said as the records say it.</summary>
    private static CaptureRefusedException Stopped() => new("the walker stopped halfway (its output ended inside a block)");
}
