using System.Diagnostics.CodeAnalysis;

namespace Sidus.Store.Formats;

/// <summary>
/// The tar header layout (POSIX ustar with the GNU and PAX extensions), its numeric fields and checksum.
/// Offsets and lengths are those of POSIX.1-2001 and GNU tar's tar.h.
/// </summary>
public static class TarFormat
{
    public const int BlockSize = 512;

    public const int NameOffset = 0;
    public const int NameLength = 100;
    public const int ModeOffset = 100;
    public const int ModeLength = 8;
    public const int UidOffset = 108;
    public const int UidLength = 8;
    public const int GidOffset = 116;
    public const int GidLength = 8;
    public const int SizeOffset = 124;
    public const int SizeLength = 12;
    public const int MtimeOffset = 136;
    public const int MtimeLength = 12;
    public const int ChecksumOffset = 148;
    public const int ChecksumLength = 8;
    public const int TypeOffset = 156;
    public const int LinkNameOffset = 157;
    public const int LinkNameLength = 100;
    public const int MagicOffset = 257;
    public const int MagicLength = 6;
    public const int VersionOffset = 263;
    public const int VersionLength = 2;
    public const int UserNameOffset = 265;
    public const int GroupNameOffset = 297;
    public const int DevMajorOffset = 329;
    public const int DevMajorLength = 8;
    public const int DevMinorOffset = 337;
    public const int DevMinorLength = 8;
    public const int PrefixOffset = 345;
    public const int PrefixLength = 155;

    // Old GNU sparse headers ('S'): four (offset, size) pairs in the header, 21 more per extension block.
    public const int GnuSparseOffset = 386;
    public const int GnuSparseEntriesInHeader = 4;
    public const int GnuSparseEntryLength = 24;
    public const int GnuSparseNumberLength = 12;
    public const int GnuIsExtendedOffset = 482;
    public const int GnuRealSizeOffset = 483;
    public const int GnuRealSizeLength = 12;
    public const int GnuSparseEntriesInExtension = 21;
    public const int GnuExtensionIsExtendedOffset = 504;

    public const byte TypeRegular = (byte)'0';
    public const byte TypeRegularOld = 0;
    public const byte TypeHardLink = (byte)'1';
    public const byte TypeSymlink = (byte)'2';
    public const byte TypeCharDevice = (byte)'3';
    public const byte TypeBlockDevice = (byte)'4';
    public const byte TypeDirectory = (byte)'5';
    public const byte TypeFifo = (byte)'6';
    public const byte TypeContiguous = (byte)'7';
    public const byte TypePaxLocal = (byte)'x';
    public const byte TypePaxGlobal = (byte)'g';
    public const byte TypeGnuLongName = (byte)'L';
    public const byte TypeGnuLongLink = (byte)'K';
    public const byte TypeGnuSparse = (byte)'S';
    public const byte TypeGnuDumpDir = (byte)'D';
    public const byte TypeGnuVolumeLabel = (byte)'V';

    public static ReadOnlySpan<byte> UstarMagic => "ustar\0"u8;
    public static ReadOnlySpan<byte> UstarVersion => "00"u8;
    public static ReadOnlySpan<byte> GnuMagic => "ustar "u8;

    /// <summary>Largest value an octal field of LENGTH bytes holds (LENGTH-1 digits and a terminator).</summary>
    public static long MaxOctal(int length) => (1L << (3 * (length - 1))) - 1;

    /// <summary>Rounds LENGTH up to whole blocks.</summary>
    public static long Padded(long length) => (length + BlockSize - 1) / BlockSize * BlockSize;

    /// <summary>
    /// A numeric field: octal digits (leading spaces or NULs, ended by a space or NUL), or GNU base-256 when the
    /// first byte's high bit is set (0x80 positive, 0xFF negative two's complement).
    /// </summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.IsEmpty)
        {
            return true;
        }

        if ((field[0] & 0x80) != 0)
        {
            var negative = field[0] == 0xFF;
            if (!negative && field[0] != 0x80)
            {
                return false;
            }

            // Up to 8 significant bytes fit a long; the rest must be sign extension.
            var rest = field[1..];
            var fill = negative ? (byte)0xFF : (byte)0;
            while (rest.Length > sizeof(long))
            {
                if (rest[0] != fill)
                {
                    return false;
                }

                rest = rest[1..];
            }

            long v = negative ? -1 : 0;
            foreach (var b in rest)
            {
                v = (v << 8) | b;
            }

            if (!negative && v < 0)
            {
                return false;
            }

            value = v;
            return true;
        }

        var i = 0;
        while (i < field.Length && (field[i] == (byte)' ' || field[i] == 0))
        {
            i++;
        }

        long result = 0;
        for (; i < field.Length; i++)
        {
            var c = field[i];
            if (c == (byte)' ' || c == 0)
            {
                break;
            }

            if (c < (byte)'0' || c > (byte)'7' || result > (long.MaxValue >> 3))
            {
                return false;
            }

            result = (result << 3) | (long)(c - '0');
        }

        for (; i < field.Length; i++)
        {
            if (field[i] != (byte)' ' && field[i] != 0)
            {
                return false;
            }
        }

        value = result;
        return true;
    }

    /// <summary>Writes VALUE as zero-padded octal ending in NUL; false when it does not fit.</summary>
    public static bool TryWriteOctal(Span<byte> field, long value)
    {
        if (value < 0 || value > MaxOctal(field.Length))
        {
            return false;
        }

        field[^1] = 0;
        for (var i = field.Length - 2; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        return true;
    }

    /// <summary>Writes VALUE in GNU base-256 (any signed value that fits the field).</summary>
    public static void WriteBase256(Span<byte> field, long value)
    {
        var v = value;
        for (var i = field.Length - 1; i >= 1; i--)
        {
            field[i] = (byte)v;
            v >>= 8;
        }

        field[0] = value < 0 ? (byte)0xFF : (byte)0x80;
    }

    /// <summary>The header checksum: the byte sum with the checksum field counted as spaces (unsigned, and the
    /// signed sum some old tars wrote).</summary>
    public static (long Unsigned, long Signed) Checksums(ReadOnlySpan<byte> header)
    {
        long unsignedSum = 0, signedSum = 0;
        for (var i = 0; i < BlockSize; i++)
        {
            var b = i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength ? (byte)' ' : header[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }

        return (unsignedSum, signedSum);
    }

    /// <summary>Fills in the checksum field of a header being written.</summary>
    public static void WriteChecksum(Span<byte> header)
    {
        var (sum, _) = Checksums(header);
        var field = header.Slice(ChecksumOffset, ChecksumLength);
        TryWriteOctal(field[..7], sum);
        field[6] = 0;
        field[7] = (byte)' ';
    }

    /// <summary>A NUL-terminated text field as bytes (the whole field when it has no NUL).</summary>
    public static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return end < 0 ? field : field[..end];
    }

    public static bool IsZeroBlock(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);
}

/// <summary>An archive that is not valid tar, or ends before it should.</summary>
public sealed class TarFormatException : StoreException
{
    public TarFormatException(string message) : base(message, StoreErrorKind.Failure)
    {
    }

    public TarFormatException(string message, Exception inner) : base(message, inner, StoreErrorKind.Failure)
    {
    }

    [DoesNotReturn]
    public static void Throw(string message) => throw new TarFormatException(message);

    public static string Describe(ReadOnlySpan<byte> name) => name.IsEmpty ? "(start of archive)" : $"'{LinuxException.Printable(name)}'";
}
