namespace Sidus.Wire.Contracts;

/// <summary>
/// Reads a manifest (<see cref="ManifestFormat"/>). A malformed one is refused whole with the line number and what is
/// wrong (<see cref="InvalidDataException"/>: it came over the network), never half-used.
/// </summary>
public static class ManifestReader
{
    private const int ContentHexLength = 64;

    public static List<ManifestEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines[0] != ManifestFormat.Header)
        {
            throw new InvalidDataException($"not a manifest this reader knows (first line '{Printable(lines[0])}', expected '{ManifestFormat.Header}')");
        }

        var entries = new List<ManifestEntry>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            try
            {
                entries.Add(ParseLine(lines[i]));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"manifest line {i + 1} is invalid: {e.Message}");
            }
            catch (OverflowException e)
            {
                throw new InvalidDataException($"manifest line {i + 1} is invalid: {e.Message}");
            }
        }

        return entries;
    }

    /// <summary>One line (no '\n'); a malformed line is a <see cref="FormatException"/> saying which field.</summary>
    public static ManifestEntry ParseLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var f = line.Split(' ');
        if (f.Length != ManifestFormat.FieldCount)
        {
            throw new FormatException($"{f.Length} fields, expected {ManifestFormat.FieldCount}");
        }

        if (f[0].Length != 1 || !ManifestFormat.TryKind(f[0][0], out var kind))
        {
            throw new FormatException($"unknown kind '{Printable(f[0])}'");
        }

        var mode = Field(f[1], "mode", s => Convert.ToUInt32(s, 8));
        if (mode > 0xFFF)
        {
            throw new FormatException($"mode {f[1]} has more than permission bits");
        }

        var target = f[12] == ManifestFormat.None ? null : f[12];
        return new ManifestEntry
        {
            Kind = kind,
            Mode = mode,
            Uid = Field(f[2], "uid", UInt),
            Gid = Field(f[3], "gid", UInt),
            MtimeSeconds = Field(f[4], "mtime", s => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
            MtimeNanoseconds = Field(f[5], "mtime nanoseconds", UInt),
            Size = Field(f[6], "size", s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)),
            Content = f[7] == ManifestFormat.None ? null : Field(f[7], "content id", ContentId),
            LinkGroup = Field(f[8], "link group", UInt),
            Major = Field(f[9], "major", UInt),
            Minor = Field(f[10], "minor", UInt),
            Path = f[11] == ManifestFormat.RootPath ? [] : Field(f[11], "path", s => ManifestFormat.Decode(s)),
            Target = kind == FileKind.Symlink
                ? Field(target ?? throw new FormatException("a symlink without a target"), "target", s => ManifestFormat.Decode(s))
                : null,
            Extents = kind == FileKind.Regular && target is not null ? Field(target, "extents", Extents) : null,
            Xattrs = f[13] == ManifestFormat.None ? [] : Field(f[13], "extended attributes", Xattrs),
        };
    }

    private static T Field<T>(string text, string name, Func<string, T> parse)
    {
        try
        {
            return parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"{name} '{Printable(text)}': {e.Message}", e);
        }
    }

    private static uint UInt(string text) => uint.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    private static byte[] ContentId(string text) =>
        text.Length == ContentHexLength ? Convert.FromHexString(text) : throw new FormatException($"not {ContentHexLength} hex digits");

    /// <summary>"OFFSET:LENGTH,..." of a sparse file; empty for one that is all holes.</summary>
    private static List<ManifestExtent> Extents(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"extent '{pair}' is not OFFSET:LENGTH");
            }

            return new ManifestExtent(
                long.Parse(pair.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture),
                long.Parse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture));
        })];

    /// <summary>NAME=HEXVALUE pairs joined by ','; NAME is %XX-encoded.</summary>
    private static List<KeyValuePair<byte[], byte[]>> Xattrs(string text) =>
        [.. text.Split(',').Select(pair =>
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"'{pair}' is not NAME=VALUE");
            }

            return KeyValuePair.Create(ManifestFormat.Decode(pair.AsSpan(0, eq)), Convert.FromHexString(pair.AsSpan(eq + 1)));
        })];

    private static string Printable(string text) =>
        text.Length > 80 ? string.Concat(text.AsSpan(0, 80), "...") : text;
}
