using System.Globalization;

namespace Sidus.Nodes;

/// <summary>
/// The KEY=VALUE words of boot event details: the booted system's "up" report (host, image, imageref, machine-id,
/// ssh-ed25519, mem-total-kib, mem-available-kib, shmem-kib) and the agent's "overrides: ... (image=ID)".
/// </summary>
public static class UpReportFields
{
    public static IReadOnlyDictionary<string, string> Parse(string? detail)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var word in (detail ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[word[..eq].TrimStart('(')] = word[(eq + 1)..].TrimEnd(')');
            }
        }

        return fields;
    }

    /// <summary>The image version the latest boot reported (newest stage first), or null.</summary>
    public static string? Image(NodeBootStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.Stages.Reverse().Select(s => Parse(s.Detail).GetValueOrDefault("image")).FirstOrDefault(i => i is not null);
    }

    /// <summary>The "up" stage's fields of the latest boot (empty before "up").</summary>
    public static IReadOnlyDictionary<string, string> Up(NodeBootStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return Parse(status.Stages.LastOrDefault(s => s.Stage == BootStage.Up)?.Detail);
    }

    public static long? Kib(IReadOnlyDictionary<string, string> fields, string key)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return fields.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }
}
