using System.Numerics;

namespace Sidus.Wire.Contracts;

/// <summary>
/// Reads a manifest (<see cref="ManifestFormat"/>). A malformed one is refused whole with the line number and what is
/// wrong (<see cref="InvalidDataException"/>: it came over the network), never half-used.
/// It reads the bytes as they came, field by field, with no string made per line or field: an update parses a
/// manifest of ten thousand lines before it can start, and strings made that a tenth of its time.
/// </summary>
public static class ManifestReader
{
    private const int ContentHexLength = 64;

    public static List<ManifestEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(Encoding.UTF8.GetBytes(text));
    }

    public static List<ManifestEntry> Parse(ReadOnlySpan<byte> manifest)
    {
        var end = manifest.IndexOf((byte)'\n');
        var header = end < 0 ? manifest : manifest[..end];
        if (!header.SequenceEqual(Encoding.ASCII.GetBytes(ManifestFormat.Header)))
        {
            throw new InvalidDataException($"not a manifest this reader knows (first line '{Printable(header)}', expected '{ManifestFormat.Header}')");
        }

        var rest = end < 0 ? [] : manifest[(end + 1)..];
        var entries = new List<ManifestEntry>(rest.Count((byte)'\n') + 1);
        for (var number = 2; !rest.IsEmpty; number++)
        {
            end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                entries.Add(ParseLine(line));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"manifest line {number} is invalid: {e.Message}");
            }
        }

        return entries;
    }

    /// <summary>One line (no '\n'); a malformed line is a <see cref="FormatException"/> saying which field.</summary>
    public static ManifestEntry ParseLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return ParseLine(Encoding.UTF8.GetBytes(line));
    }

    /// <inheritdoc cref="ParseLine(string)"/>
    public static ManifestEntry ParseLine(ReadOnlySpan<byte> line)
    {
        Span<Range> f = stackalloc Range[ManifestFormat.FieldCount];
        var count = 0;
        foreach (var field in line.Split((byte)' '))
        {
            if (count < f.Length)
            {
                f[count] = field;
            }

            count++;
        }

        if (count != ManifestFormat.FieldCount)
        {
            throw new FormatException($"{line.Count((byte)' ') + 1} fields, expected {ManifestFormat.FieldCount}");
        }

        var letter = line[f[0]];
        if (letter.Length != 1 || !ManifestFormat.TryKind((char)letter[0], out var kind))
        {
            throw new FormatException($"unknown kind '{Printable(letter)}'");
        }

        var mode = Octal(line[f[1]], "mode");
        if (mode > 0xFFF)
        {
            throw new FormatException($"mode {Printable(line[f[1]])} has more than permission bits");
        }

        var content = line[f[7]];
        var path = line[f[11]];
        var target = line[f[12]];
        var xattrs = line[f[13]];
        var noTarget = IsNone(target);
        return new ManifestEntry
        {
            Kind = kind,
            Mode = mode,
            Uid = Number<uint>(line[f[2]], "uid", NumberStyles.None),
            Gid = Number<uint>(line[f[3]], "gid", NumberStyles.None),
            MtimeSeconds = Number<long>(line[f[4]], "mtime", NumberStyles.AllowLeadingSign),
            MtimeNanoseconds = Number<uint>(line[f[5]], "mtime nanoseconds", NumberStyles.None),
            Size = Number<long>(line[f[6]], "size", NumberStyles.None),
            Content = IsNone(content) ? null : ContentId(content),
            LinkGroup = Number<uint>(line[f[8]], "link group", NumberStyles.None),
            Major = Number<uint>(line[f[9]], "major", NumberStyles.None),
            Minor = Number<uint>(line[f[10]], "minor", NumberStyles.None),
            Path = path.SequenceEqual("."u8) ? [] : Decoded(path, "path"),
            Target = kind == FileKind.Symlink
                ? (noTarget ? throw new FormatException("a symlink without a target") : Decoded(target, "target"))
                : null,
            Extents = kind == FileKind.Regular && !noTarget ? Extents(target) : null,
            Xattrs = IsNone(xattrs) ? [] : Xattrs(xattrs),
        };
    }

    private static bool IsNone(ReadOnlySpan<byte> field) => field.SequenceEqual("-"u8);

    private static T Number<T>(ReadOnlySpan<byte> field, string name, NumberStyles style)
        where T : IUtf8SpanParsable<T>, INumberBase<T> =>
        T.TryParse(field, style, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{name} '{Printable(field)}': not a decimal number in range");

    private static uint Octal(ReadOnlySpan<byte> field, string name)
    {
        ulong value = 0;
        foreach (var digit in field)
        {
            value = digit is >= (byte)'0' and <= (byte)'7' ? (value * 8) + (ulong)(digit - '0') : ulong.MaxValue;
            if (value > uint.MaxValue)
            {
                break;
            }
        }

        return field.IsEmpty || value > uint.MaxValue
            ? throw new FormatException($"{name} '{Printable(field)}': not an octal number in range")
            : (uint)value;
    }

    private static byte[] ContentId(ReadOnlySpan<byte> field) =>
        field.Length == ContentHexLength
            ? Hex(field, "content id")
            : throw new FormatException($"content id '{Printable(field)}': not {ContentHexLength} hex digits");

    private static byte[] Hex(ReadOnlySpan<byte> field, string name)
    {
        var bytes = new byte[field.Length / 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            var high = HexDigit(field[2 * i]);
            var low = HexDigit(field[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                throw new FormatException($"{name} '{Printable(field)}': not hex digits");
            }

            bytes[i] = (byte)((high << 4) | low);
        }

        return field.Length % 2 == 0 ? bytes : throw new FormatException($"{name} '{Printable(field)}': an odd number of hex digits");
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static byte[] Decoded(ReadOnlySpan<byte> field, string name)
    {
        try
        {
            return ManifestFormat.Decode(field);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{name} '{Printable(field)}': {e.Message}", e);
        }
    }

    /// <summary>"OFFSET:LENGTH,..." of a sparse file; empty for one that is all holes.</summary>
    private static List<ManifestExtent> Extents(ReadOnlySpan<byte> field)
    {
        var extents = new List<ManifestExtent>();
        foreach (var range in field.Split((byte)','))
        {
            var pair = field[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            var colon = pair.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new FormatException($"extents '{Printable(field)}': extent '{Printable(pair)}' is not OFFSET:LENGTH");
            }

            extents.Add(new ManifestExtent(
                Number<long>(pair[..colon], $"extents '{Printable(field)}': offset", NumberStyles.None),
                Number<long>(pair[(colon + 1)..], $"extents '{Printable(field)}': length", NumberStyles.None)));
        }

        return extents;
    }

    /// <summary>NAME=HEXVALUE pairs joined by ','; NAME is %XX-encoded.</summary>
    private static List<KeyValuePair<byte[], byte[]>> Xattrs(ReadOnlySpan<byte> field)
    {
        var xattrs = new List<KeyValuePair<byte[], byte[]>>();
        var name = $"extended attributes '{Printable(field)}'";
        foreach (var range in field.Split((byte)','))
        {
            var pair = field[range];
            var eq = pair.IndexOf((byte)'=');
            if (eq <= 0)
            {
                throw new FormatException($"{name}: '{Printable(pair)}' is not NAME=VALUE");
            }

            xattrs.Add(KeyValuePair.Create(Decoded(pair[..eq], $"{name}: name"), Hex(pair[(eq + 1)..], $"{name}: value")));
        }

        return xattrs;
    }

    /// <summary>A field for a message: as text, cut at 80 characters.</summary>
    private static string Printable(ReadOnlySpan<byte> field)
    {
        var text = Encoding.UTF8.GetString(field);
        return text.Length > 80 ? string.Concat(text.AsSpan(0, 80), "...") : text;
    }
}
