namespace Sidus.Server.Metrics;

/// <summary>
/// The Prometheus text exposition format (version 0.0.4): per family a <c># HELP</c> and a <c># TYPE</c> line,
/// then one line per sample, <c>name{label="value",...} number</c>. Label values escape backslash, double quote and
/// line feed; help text escapes backslash and line feed.
/// </summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void WriteFamily(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, long Value)> samples)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(samples);
        text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in samples)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    /// <summary>TAGS as the inside of a label set, sorted by name: <c>a="x",b="y"</c>.</summary>
    public static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        var sorted = tags.ToArray();
        Array.Sort(sorted, (x, y) => string.CompareOrdinal(x.Key, y.Key));
        return string.Join(',', sorted.Select(t => $"{t.Key}=\"{Escape(Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? string.Empty)}\""));
    }

    public static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
