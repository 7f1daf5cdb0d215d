namespace Sidus.Nodes.Storage;

/// <summary>
/// Tags in one TEXT column as "key=value" lines. Unambiguous because keys have no '=' and values no control
/// characters (both validated); portable across databases without a JSON type.
/// </summary>
internal static class TagCodec
{
    public static string? Encode(ImmutableSortedDictionary<string, string> tags)
    {
        if (tags.IsEmpty)
        {
            return null;
        }

        var sb = new StringBuilder();
        foreach (var (k, v) in tags)
        {
            sb.Append(k).Append('=').Append(v).Append('\n');
        }

        return sb.ToString();
    }

    public static ImmutableSortedDictionary<string, string> Decode(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ImmutableSortedDictionary<string, string>.Empty;
        }

        var b = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                b[line[..eq]] = line[(eq + 1)..];
            }
        }

        return b.ToImmutable();
    }
}
