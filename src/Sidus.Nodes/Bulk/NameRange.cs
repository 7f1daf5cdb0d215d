namespace Sidus.Nodes.Bulk;

/// <summary>
/// Expands "node[001-128]" into node001 ... node128 (SystemImager's addclients naming). The width of the first
/// number sets the zero padding; text before and after the brackets is kept.
/// </summary>
public static class NameRange
{
    /// <summary>Most names one range may produce: bounds a typo like node[1-99999999].</summary>
    public const int MaxCount = 65536;

    public static IReadOnlyList<string> Expand(string pattern)
    {
        var open = pattern.IndexOf('[', StringComparison.Ordinal);
        var close = pattern.IndexOf(']', StringComparison.Ordinal);
        if (open < 0 || close < open || pattern.IndexOf('[', open + 1) >= 0 || pattern.IndexOf(']', close + 1) >= 0)
        {
            return Throw.Invalid<IReadOnlyList<string>>($"range '{pattern}' must have one [FIRST-LAST] part, like node[001-128]");
        }

        var inner = pattern[(open + 1)..close];
        var dash = inner.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || dash == inner.Length - 1)
        {
            return Throw.Invalid<IReadOnlyList<string>>($"range '{pattern}': write the numbers as [FIRST-LAST], like [001-128]");
        }

        var firstText = inner[..dash];
        var lastText = inner[(dash + 1)..];
        if (!firstText.All(char.IsAsciiDigit) || !lastText.All(char.IsAsciiDigit) || firstText.Length > 9 || lastText.Length > 9)
        {
            return Throw.Invalid<IReadOnlyList<string>>($"range '{pattern}': FIRST and LAST must be numbers of at most 9 digits");
        }

        var first = int.Parse(firstText, CultureInfo.InvariantCulture);
        var last = int.Parse(lastText, CultureInfo.InvariantCulture);
        if (last < first)
        {
            return Throw.Invalid<IReadOnlyList<string>>($"range '{pattern}': LAST ({last}) is smaller than FIRST ({first})");
        }

        if (last - first + 1 > MaxCount)
        {
            return Throw.Invalid<IReadOnlyList<string>>($"range '{pattern}' makes {last - first + 1} names; at most {MaxCount} at once");
        }

        var width = firstText.Length;
        var prefix = pattern[..open];
        var suffix = pattern[(close + 1)..];
        var names = new List<string>(last - first + 1);
        for (var i = first; i <= last; i++)
        {
            var name = prefix + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0') + suffix;
            names.Add(Names.Label(name, "node"));
        }

        return names;
    }
}
