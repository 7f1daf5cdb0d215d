using System.Runtime.InteropServices;

namespace Sidus.Store.Compression;

/// <summary>
/// Streaming zstd decompression of any number of concatenated frames through the system's libzstd, for .tar.zst
/// archives, zstd OCI layers and large contents. A stream that ends inside a frame or does not decode is an error,
/// never short data. Decompression contexts are kept for the next stream: each holds a window buffer of up to the
/// frame's window size, and a new one per stream was fresh memory to fault in for every large content of a sync.
/// </summary>
public sealed unsafe partial class ZstdDecompressStream : ReadOnlyStream
{
    private const string Lib = "libzstd.so.1";
    private const int InputBufferLength = 128 * 1024;
    private const int ResetSessionOnly = 1;

    /// <summary>Contexts kept for the next streams: as many as streams run at once, within reason.</summary>
    private static readonly int KeptContexts = Math.Max(4, Environment.ProcessorCount);
    private static readonly Stack<nint> s_kept = new();

    private readonly Stream? _input;
    private readonly string _label;
    private readonly byte[]? _in;
    private ReadOnlyMemory<byte> _window;
    private nint _dctx;
    private int _inLength;
    private int _inPosition;
    private bool _inputEnded;
    private bool _frameOpen;

    public ZstdDecompressStream(Stream input, string label)
        : this(label)
    {
        _input = input;
        _in = new byte[InputBufferLength];
    }

    /// <summary>Decompresses INPUT, all of it in memory already: read in place, not copied.</summary>
    public ZstdDecompressStream(ReadOnlyMemory<byte> input, string label)
        : this(label)
    {
        _window = input;
        _inLength = input.Length;
        _inputEnded = true;
    }

    private ZstdDecompressStream(string label)
    {
        _label = label;
        lock (s_kept)
        {
            s_kept.TryPop(out _dctx);
        }

        _dctx = _dctx != 0 ? _dctx : ZSTD_createDCtx();
        if (_dctx == 0)
        {
            throw new OutOfMemoryException("zstd: cannot create a decompression context");
        }
    }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_dctx == 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_inPosition == _inLength && !_inputEnded)
            {
                _inLength = _input!.Read(_in!, 0, _in!.Length);
                _window = _in.AsMemory(0, _inLength);
                _inPosition = 0;
                _inputEnded = _inLength == 0;
            }

            if (_inPosition == _inLength && _inputEnded && !_frameOpen)
            {
                return 0;
            }

            nuint hint;
            int produced;
            fixed (byte* inPtr = _window.Span)
            fixed (byte* outPtr = buffer)
            {
                var input = new Buffer { Data = inPtr, Size = (nuint)_inLength, Position = (nuint)_inPosition };
                var output = new Buffer { Data = outPtr, Size = (nuint)buffer.Length, Position = 0 };
                hint = ZSTD_decompressStream(_dctx, &output, &input);
                _inPosition = (int)input.Position;
                produced = (int)output.Position;
            }

            if (ZSTD_isError(hint) != 0)
            {
                throw new StoreException($"{_label}: the zstd data is corrupt ({Marshal.PtrToStringUTF8(ZSTD_getErrorName(hint))})");
            }

            // A zero hint means a frame just ended; anything else means the current frame wants more input.
            _frameOpen = hint != 0;
            if (produced > 0)
            {
                return produced;
            }

            if (_inPosition == _inLength && _inputEnded)
            {
                // No input left and nothing more came out: the frame can never be completed.
                throw new StoreException($"{_label}: the zstd data is truncated (it ends inside a frame)");
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_dctx != 0)
        {
            Keep(_dctx);
            _dctx = 0;
        }

        base.Dispose(disposing);
    }

    /// <summary>DCTX back for the next stream, its frame state cleared (a stream may end inside a frame); freed when enough are kept.</summary>
    private static void Keep(nint dctx)
    {
        if (ZSTD_isError(ZSTD_DCtx_reset(dctx, ResetSessionOnly)) == 0)
        {
            lock (s_kept)
            {
                if (s_kept.Count < KeptContexts)
                {
                    s_kept.Push(dctx);
                    return;
                }
            }
        }

        _ = ZSTD_freeDCtx(dctx);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
    {
        public byte* Data;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Lib)]
    private static partial nint ZSTD_createDCtx();

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_freeDCtx(nint dctx);

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_DCtx_reset(nint dctx, int reset);

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_decompressStream(nint dctx, Buffer* output, Buffer* input);

    [LibraryImport(Lib)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Lib)]
    private static partial nint ZSTD_getErrorName(nuint code);
}
