namespace Sidus.Wire.Tftp;

/// <summary>
/// Reads a file as RFC 764 netascii, as RFC 1350 asks for that mode: LF becomes CR LF and a bare CR becomes CR NUL.
/// The converted length is not known in advance, so tsize is not offered for netascii.
/// </summary>
internal sealed class NetasciiReadStream : Stream
{
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';
    private const int RawBufferSize = 4096;

    private readonly Stream _inner;
    private readonly byte[] _raw = new byte[RawBufferSize];
    private int _rawPosition;
    private int _rawLength;
    private int _pending = -1;

    public NetasciiReadStream(Stream inner) => _inner = inner;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (_rawPosition == _rawLength && _pending < 0)
            {
                _rawLength = _inner.Read(_raw);
                _rawPosition = 0;
                if (_rawLength == 0)
                {
                    break;
                }
            }

            written += Convert(buffer[written..]);
        }

        return written;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (_rawPosition == _rawLength && _pending < 0)
            {
                _rawLength = await _inner.ReadAsync(_raw, cancellationToken);
                _rawPosition = 0;
                if (_rawLength == 0)
                {
                    break;
                }
            }

            written += Convert(buffer.Span[written..]);
        }

        return written;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Converts buffered raw bytes into DESTINATION; the second byte of a pair may wait for the next call.</summary>
    private int Convert(Span<byte> destination)
    {
        var written = 0;
        while (written < destination.Length)
        {
            if (_pending >= 0)
            {
                destination[written++] = (byte)_pending;
                _pending = -1;
                continue;
            }

            if (_rawPosition == _rawLength)
            {
                break;
            }

            var b = _raw[_rawPosition++];
            if (b == Lf)
            {
                destination[written++] = Cr;
                _pending = Lf;
            }
            else if (b == Cr)
            {
                destination[written++] = Cr;
                _pending = 0;
            }
            else
            {
                destination[written++] = b;
            }
        }

        return written;
    }
}
