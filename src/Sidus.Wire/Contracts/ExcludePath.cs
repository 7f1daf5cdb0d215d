namespace Sidus.Wire.Contracts;

/// <summary>
/// What an exclude path must be, wherever it is written (`sidus node update --exclude`, the inventory's update
/// excludes, an image's /etc/sidus/update.exclude or capture.exclude): an absolute path ("/var/log": it and everything
/// under it) or one ending in "/*" (only what is under it), with no "." or ".." part, not "/" itself, one line. The
/// sync engine (Sidus.Store.Sync.SyncExcludes) refuses what this refuses, with the same words.
/// </summary>
public static class ExcludePath
{
    /// <summary>PATH_MAX: no longer path can be excluded on a Linux node.</summary>
    public const int MaxLength = 4096;

    /// <summary>Why RAW cannot be an exclude, or null when it can.</summary>
    public static string? Problem(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var (path, contentsOnly) = raw.EndsWith("/*", StringComparison.Ordinal) ? (raw[..^2], true) : (raw, false);
        if (!raw.StartsWith('/') || path.Split('/').Skip(1).Any(part => part is "." or ".."))
        {
            return $"exclude '{raw}' is not an absolute path (such as /var/log or /var/log/*)";
        }

        if (raw.Any(char.IsControl))
        {
            return $"exclude '{raw.ReplaceLineEndings(" ")}' has a control character (newline, tab...): a path is one line";
        }

        if (raw.Length > MaxLength)
        {
            return $"exclude '{raw[..40]}...' is {raw.Length} characters long; a path has at most {MaxLength}";
        }

        return path.Trim('/').Length == 0 && !contentsOnly ? "exclude '/' would leave nothing to sync" : null;
    }
}
