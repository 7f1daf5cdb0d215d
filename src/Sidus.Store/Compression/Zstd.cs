using System.Runtime.InteropServices;

namespace Sidus.Store.Compression;

/// <summary>
/// zstd through the system's libzstd.so.1 (always present on Debian: dpkg needs it), one context per thread.
/// Frames carry a content checksum so damage is caught when they are read.
/// </summary>
public static unsafe partial class Zstd
{
    private const string Lib = "libzstd.so.1";

    /// <summary>
    /// Called, not looked for: a program that links libzstd in (the capture's walker, a static executable that cannot
    /// open libraries) has it whatever the system holds; the others open the system's at the first call.
    /// </summary>
    private static readonly Lazy<bool> Loadable = new(() =>
    {
        try
        {
            return ZSTD_versionNumber() > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    });

    /// <summary>Whether this process has libzstd (an initramfs with only libc has not: the node agent then asks for raw data).</summary>
    public static bool Available => Loadable.Value;
    private const int CompressionLevelParameter = 100;
    private const int ChecksumFlagParameter = 201;

    public const int DefaultLevel = 6;

    [ThreadStatic] private static nint t_cctx;
    [ThreadStatic] private static int t_cctxLevel;
    [ThreadStatic] private static nint t_dctx;

    public static int CompressBound(int length) => (int)ZSTD_compressBound((nuint)length);

    /// <summary>Compresses SOURCE into DESTINATION (at least CompressBound long); returns the bytes written.</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level = DefaultLevel)
    {
        var ctx = CompressionContext(level);
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            var n = ZSTD_compress2(ctx, d, (nuint)destination.Length, s, (nuint)source.Length);
            ThrowIfError(n, "compress");
            return (int)n;
        }
    }

    public static byte[] Compress(ReadOnlySpan<byte> source, int level = DefaultLevel)
    {
        var buffer = new byte[CompressBound(source.Length)];
        var n = Compress(source, buffer, level);
        return buffer.AsSpan(0, n).ToArray();
    }

    /// <summary>Decompresses a whole frame whose decompressed size is known to be exactly DESTINATION's length.</summary>
    public static void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (t_dctx == 0)
        {
            t_dctx = ZSTD_createDCtx();
        }

        nuint n;
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            n = ZSTD_decompressDCtx(t_dctx, d, (nuint)destination.Length, s, (nuint)source.Length);
        }

        if (ZSTD_isError(n) != 0)
        {
            throw new CorruptObjectException($"zstd frame does not decompress: {ErrorName(n)}");
        }

        if ((int)n != destination.Length)
        {
            throw new CorruptObjectException($"zstd frame holds {n} bytes, expected {destination.Length}");
        }
    }

    private static nint CompressionContext(int level)
    {
        if (t_cctx == 0)
        {
            t_cctx = ZSTD_createCCtx();
            ThrowIfError(ZSTD_CCtx_setParameter(t_cctx, ChecksumFlagParameter, 1), "set checksum");
            t_cctxLevel = int.MinValue;
        }

        if (t_cctxLevel != level)
        {
            ThrowIfError(ZSTD_CCtx_setParameter(t_cctx, CompressionLevelParameter, level), "set level");
            t_cctxLevel = level;
        }

        return t_cctx;
    }

    /// <summary>
    /// Whether FRAME is exactly one standard zstd frame carrying a content checksum, as <see cref="Compress"/> makes
    /// them: what the store may keep as one of its frames when another program compressed it (a capture's wire block).
    /// Several frames joined, a skippable frame, or one without its checksum would decompress, but break the promise
    /// that every frame of a pack catches its own damage.
    /// </summary>
    public static bool IsOneCheckedFrame(ReadOnlySpan<byte> frame)
    {
        // Magic number 0xFD2FB528 (little-endian), then the frame header descriptor, whose bit 2 is the checksum flag.
        if (frame.Length < 5 || frame[0] != 0x28 || frame[1] != 0xB5 || frame[2] != 0x2F || frame[3] != 0xFD || (frame[4] & 0x04) == 0)
        {
            return false;
        }

        nuint size;
        fixed (byte* f = frame)
        {
            size = ZSTD_findFrameCompressedSize(f, (nuint)frame.Length);
        }

        return ZSTD_isError(size) == 0 && size == (nuint)frame.Length;
    }

    private static void ThrowIfError(nuint code, string what)
    {
        if (ZSTD_isError(code) != 0)
        {
            throw new InvalidOperationException($"zstd {what}: {ErrorName(code)}");
        }
    }

    private static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(ZSTD_getErrorName(code)) ?? "unknown error";

    [LibraryImport(Lib)]
    private static partial uint ZSTD_versionNumber();

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_compressBound(nuint srcSize);

    [LibraryImport(Lib)]
    private static partial nint ZSTD_createCCtx();

    [LibraryImport(Lib)]
    private static partial nint ZSTD_createDCtx();

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_CCtx_setParameter(nint cctx, int parameter, int value);

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_compress2(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_decompressDCtx(nint dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Lib)]
    private static partial nuint ZSTD_findFrameCompressedSize(byte* src, nuint srcSize);

    [LibraryImport(Lib)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Lib)]
    private static partial nint ZSTD_getErrorName(nuint code);
}
