using System.Globalization;

namespace Sidus.Agent.Fetch;

/// <summary>Parses a version manifest; a malformed one is refused with the line number, never half-used.</summary>
internal static class ManifestParser
{
    public const string Header = "sidus-manifest 2";
    private const int FieldCount = 14;

    public static List<ManifestEntry> Parse(string text)
    {
        var lines = text.Split('\n');
        if (lines.Length == 0 || lines[0] != Header)
        {
            throw new InvalidDataException($"not a manifest this agent reads (first line '{(lines.Length > 0 ? lines[0] : string.Empty)}', expected '{Header}')");
        }

        var entries = new List<ManifestEntry>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            var f = lines[i].Split(' ');
            if (f.Length != FieldCount || f[0].Length != 1)
            {
                throw Invalid(i, "wrong number of fields");
            }

            try
            {
                entries.Add(new ManifestEntry(
                    f[0][0],
                    Convert.ToUInt32(f[1], 8),
                    uint.Parse(f[2], CultureInfo.InvariantCulture),
                    uint.Parse(f[3], CultureInfo.InvariantCulture),
                    long.Parse(f[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                    uint.Parse(f[5], CultureInfo.InvariantCulture),
                    long.Parse(f[6], CultureInfo.InvariantCulture),
                    f[7] == "-" ? null : Convert.FromHexString(f[7]),
                    uint.Parse(f[8], CultureInfo.InvariantCulture),
                    uint.Parse(f[9], CultureInfo.InvariantCulture),
                    uint.Parse(f[10], CultureInfo.InvariantCulture),
                    Decode(f[11]),
                    f[12] == "-" ? null : Decode(f[12]),
                    f[13] == "-" ? [] : DecodeXattrs(f[13])));
            }
            catch (FormatException e)
            {
                throw Invalid(i, e.Message);
            }
            catch (OverflowException e)
            {
                throw Invalid(i, e.Message);
            }
        }

        return entries;
    }

    /// <summary>Undoes the %XX encoding of names and link targets.</summary>
    public static byte[] Decode(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length)
                {
                    throw new FormatException("truncated %XX escape");
                }

                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }

        return [.. bytes];
    }

    /// <summary>NAME=HEXVALUE pairs joined by ','; NAME is %XX-encoded.</summary>
    private static List<KeyValuePair<byte[], byte[]>> DecodeXattrs(string text) =>
        [.. text.Split(',').Select(pair =>
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"extended attribute '{pair}' is not NAME=VALUE");
            }

            return KeyValuePair.Create(Decode(pair[..eq]), Convert.FromHexString(pair.AsSpan(eq + 1)));
        })];

    private static InvalidDataException Invalid(int line, string why) => new($"manifest line {line + 1} is invalid: {why}");
}
