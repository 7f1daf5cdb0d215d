namespace Sidus.Store.Formats;

/// <summary>
/// PAX extended header records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record in decimal. Keys are ASCII;
/// values are kept as raw bytes because SCHILY.xattr values are binary (security.capability, ACLs).
/// </summary>
public static class PaxRecords
{
    private const int MaxLengthDigits = 12;

    /// <summary>Decodes every record of DATA in order; a malformed record is an error naming MEMBER.</summary>
    public static List<KeyValuePair<string, byte[]>> Decode(ReadOnlySpan<byte> data, string member)
    {
        var records = new List<KeyValuePair<string, byte[]>>();
        var at = 0;
        while (at < data.Length)
        {
            var rest = data[at..];
            if (TarFormat.IsZeroBlock(rest))
            {
                // Some writers pad the extended header with NULs.
                break;
            }

            var space = rest.IndexOf((byte)' ');
            if (space <= 0 || space > MaxLengthDigits ||
                !int.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var length) ||
                length <= space + 1 || length > rest.Length || rest[length - 1] != (byte)'\n')
            {
                throw new TarFormatException($"bad PAX extended header record before member {member}");
            }

            var record = rest[(space + 1)..(length - 1)];
            var equals = record.IndexOf((byte)'=');
            if (equals <= 0)
            {
                throw new TarFormatException($"bad PAX extended header record (no key) before member {member}");
            }

            records.Add(new(Encoding.Latin1.GetString(record[..equals]), record[(equals + 1)..].ToArray()));
            at += length;
        }

        return records;
    }

    /// <summary>Appends one record; the length prefix counts its own digits.</summary>
    public static void Append(ByteWriter output, string key, ReadOnlySpan<byte> value)
    {
        var keyBytes = Encoding.ASCII.GetBytes(key);
        var body = 1 + keyBytes.Length + 1 + value.Length + 1; // space, key, '=', value, newline
        var digits = body.ToString(CultureInfo.InvariantCulture).Length;
        var total = body + digits;
        if (total.ToString(CultureInfo.InvariantCulture).Length != digits)
        {
            total++;
        }

        output.Raw(Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture)));
        output.Byte((byte)' ');
        output.Raw(keyBytes);
        output.Byte((byte)'=');
        output.Raw(value);
        output.Byte((byte)'\n');
    }

    public static void Append(ByteWriter output, string key, string value) => Append(output, key, Encoding.UTF8.GetBytes(value));

    /// <summary>A PAX time "[-]SECONDS[.FRACTION]" as seconds and nanoseconds (0..999999999).</summary>
    public static bool TryParseTime(ReadOnlySpan<byte> text, out long seconds, out uint nanoseconds)
    {
        seconds = 0;
        nanoseconds = 0;
        var negative = !text.IsEmpty && text[0] == (byte)'-';
        if (negative)
        {
            text = text[1..];
        }

        var dot = text.IndexOf((byte)'.');
        var whole = dot < 0 ? text : text[..dot];
        if (whole.IsEmpty || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var s))
        {
            return false;
        }

        long ns = 0;
        if (dot >= 0)
        {
            var fraction = text[(dot + 1)..];
            for (var i = 0; i < fraction.Length; i++)
            {
                var c = fraction[i];
                if (c < (byte)'0' || c > (byte)'9')
                {
                    return false;
                }

                // Digits past the nanosecond are dropped (truncated, as GNU tar does).
                if (i < 9)
                {
                    ns = ns * 10 + (c - '0');
                }
            }

            for (var i = fraction.Length; i < 9; i++)
            {
                ns *= 10;
            }
        }

        if (negative && ns > 0)
        {
            seconds = -s - 1;
            nanoseconds = (uint)(1_000_000_000 - ns);
        }
        else
        {
            seconds = negative ? -s : s;
            nanoseconds = (uint)ns;
        }

        return true;
    }

    /// <summary>SECONDS and NANOSECONDS as a PAX time, trailing zeros of the fraction dropped.</summary>
    public static string FormatTime(long seconds, uint nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return seconds.ToString(CultureInfo.InvariantCulture);
        }

        var negative = seconds < 0;
        var whole = negative ? -(seconds + 1) : seconds;
        var fraction = negative ? 1_000_000_000 - nanoseconds : nanoseconds;
        var text = fraction.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        return string.Create(CultureInfo.InvariantCulture, $"{(negative ? "-" : "")}{whole}.{text}");
    }
}
