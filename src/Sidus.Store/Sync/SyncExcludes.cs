namespace Sidus.Store.Sync;

/// <summary>
/// Paths a sync leaves alone: neither written, deleted nor reported (as changes or as drift). Each is given as an
/// absolute path of the target ("/var/log"): the path and everything under it; or with a trailing "/*"
/// ("/var/log/*"): only what is under it, the directory itself still kept equal to the image's.
/// </summary>
public sealed class SyncExcludes
{
    private readonly List<(byte[] Path, bool ContentsOnly)> _all = [];

    /// <summary>The excludes PATHS give; a path <see cref="Sidus.Wire.Contracts.ExcludePath"/> refuses is refused.</summary>
    public SyncExcludes(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var raw in paths)
        {
            if (Sidus.Wire.Contracts.ExcludePath.Problem(raw) is { } problem)
            {
                throw new ArgumentException(problem);
            }

            var (path, contentsOnly) = raw.EndsWith("/*", StringComparison.Ordinal) ? (raw[..^2], true) : (raw, false);
            var relative = Encoding.UTF8.GetBytes(path.Trim('/'));

            _all.Add((relative, contentsOnly));
            Paths.Add(raw);
        }
    }

    public static SyncExcludes None { get; } = new([]);

    /// <summary>True when an excluded path lies below DIRECTORY (relative, no leading slash; "" is the root), the
    /// contents of a "/*" exclude included: a walk looking for excluded paths needs to go into it.</summary>
    public bool LeadsTo(ReadOnlySpan<byte> directory)
    {
        if (directory.Length == 0)
        {
            return _all.Count > 0;
        }

        foreach (var (excluded, contentsOnly) in _all)
        {
            if (contentsOnly && directory.SequenceEqual(excluded))
            {
                return true;
            }
        }

        return HoldsExcluded(directory);
    }

    /// <summary>The excludes as given.</summary>
    public List<string> Paths { get; } = [];

    /// <summary>True when PATH (relative to the target, no leading slash) is excluded.</summary>
    public bool Contains(ReadOnlySpan<byte> path)
    {
        // A walk asks this of every name: the few excludes are compared in place, with nothing allocated.
        foreach (var (excluded, contentsOnly) in _all)
        {
            var under = excluded.Length == 0
                ? path.Length > 0
                : path.Length > excluded.Length && path[excluded.Length] == (byte)'/' && path.StartsWith(excluded);
            if ((under && (contentsOnly || excluded.Length > 0)) || (!contentsOnly && path.SequenceEqual(excluded)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when an excluded path lies strictly under PATH (a directory to keep, and to look into, for
    /// what is excluded inside it: /var/lib holds /var/lib/sidus even when the image has no /var/lib).</summary>
    public bool HoldsExcluded(ReadOnlySpan<byte> path)
    {
        foreach (var (excluded, _) in _all)
        {
            if (excluded.Length > path.Length && excluded[path.Length] == (byte)'/' && excluded.AsSpan().StartsWith(path))
            {
                return true;
            }
        }

        return false;
    }
}
