namespace Sidus.Nodes.Layouts;

/// <summary>
/// Sizes as layouts write them: bytes ("4096"), binary units ("512MiB", "20GiB", "1TiB"; "M", "G", "T" alone mean
/// the same, as lsblk prints them), decimal units ("500GB", as disk vendors count), a share of what contains it
/// ("10%"), or "rest" (what the other items leave).
/// </summary>
public readonly record struct ByteSize(long Bytes, double Percent, bool Rest)
{
    public const long MiB = 1L << 20;

    public static ByteSize Of(long bytes) => new(bytes, 0, false);

    public bool IsFixed => !Rest && Percent == 0;

    public static bool TryParse(string text, out ByteSize size, out string? problem)
    {
        size = default;
        problem = null;
        var t = (text ?? string.Empty).Trim();
        if (t.Equals("rest", StringComparison.OrdinalIgnoreCase))
        {
            size = new ByteSize(0, 0, true);
            return true;
        }

        if (t.EndsWith('%'))
        {
            if (double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent is > 0 and <= 100)
            {
                size = new ByteSize(0, percent, false);
                return true;
            }

            problem = $"'{text}' is not a share: write 1% to 100%";
            return false;
        }

        var digits = 0;
        while (digits < t.Length && (char.IsAsciiDigit(t[digits]) || t[digits] == '.'))
        {
            digits++;
        }

        var unit = t[digits..].Trim();
        long multiplier = unit.ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            "T" or "TIB" => 1L << 40,
            "KB" => 1000,
            "MB" => 1000_000,
            "GB" => 1000_000_000,
            "TB" => 1000_000_000_000,
            _ => 0,
        };
        if (multiplier == 0 || digits == 0 || !decimal.TryParse(t[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            problem = $"'{text}' is not a size: write bytes, 512MiB, 20GiB, 1TiB (or M, G, T), 500GB, 10% or rest";
            return false;
        }

        var bytes = number * multiplier;
        if (bytes > long.MaxValue / 2)
        {
            problem = $"'{text}' is larger than any disk";
            return false;
        }

        size = Of((long)bytes);
        return true;
    }

    /// <summary>"512 MiB", "1.5 TiB": binary units, as the plan prints them.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var u = 0;
        while (value >= 1024 && u < units.Length - 1)
        {
            value /= 1024;
            u++;
        }

        return u == 0 ? $"{bytes} B" : $"{value.ToString(value % 1 == 0 ? "0" : "0.##", CultureInfo.InvariantCulture)} {units[u]}";
    }

    public override string ToString() => Rest ? "rest" : Percent > 0 ? $"{Percent.ToString(CultureInfo.InvariantCulture)}%" : Format(Bytes);
}
