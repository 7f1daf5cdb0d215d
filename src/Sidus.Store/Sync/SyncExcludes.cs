namespace Sidus.Store.Sync;

/// <summary>
/// Paths a sync leaves alone: neither written, deleted nor reported (as changes or as drift). Each is given as an
/// absolute path of the target ("/var/log"): the path and everything under it; or with a trailing "/*"
/// ("/var/log/*"): only what is under it, the directory itself still kept equal to the image's.
/// </summary>
public sealed class SyncExcludes
{
    private readonly HashSet<byte[]> _whole = new(ByteComparer.Instance);
    private readonly HashSet<byte[]> _contents = new(ByteComparer.Instance);

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

            (contentsOnly ? _contents : _whole).Add(relative);
            Paths.Add(raw);
        }
    }

    public static SyncExcludes None { get; } = new([]);

    /// <summary>True when an excluded path lies below DIRECTORY (relative, no leading slash; "" is the root), the
    /// contents of a "/*" exclude included: a walk looking for excluded paths needs to go into it.</summary>
    public bool LeadsTo(ReadOnlySpan<byte> directory) =>
        directory.Length == 0 ? _whole.Count + _contents.Count > 0 : HoldsExcluded(directory) || _contents.Contains(directory.ToArray());

    /// <summary>The excludes as given.</summary>
    public List<string> Paths { get; } = [];

    /// <summary>True when PATH (relative to the target, no leading slash) is excluded.</summary>
    public bool Contains(ReadOnlySpan<byte> path)
    {
        if (_whole.Count == 0 && _contents.Count == 0)
        {
            return false;
        }

        if (_contents.Contains([]) && path.Length > 0)
        {
            return true;
        }

        for (var at = path.IndexOf((byte)'/'); at >= 0; at = NextSlash(path, at))
        {
            var prefix = path[..at].ToArray();
            if (_whole.Contains(prefix) || _contents.Contains(prefix))
            {
                return true;
            }
        }

        return _whole.Contains(path.ToArray());
    }

    /// <summary>True when an excluded path lies strictly under PATH (a directory to keep, and to look into, for
    /// what is excluded inside it: /var/lib holds /var/lib/sidus even when the image has no /var/lib).</summary>
    public bool HoldsExcluded(ReadOnlySpan<byte> path)
    {
        foreach (var excluded in _whole.Concat(_contents))
        {
            if (excluded.Length > path.Length && excluded[path.Length] == (byte)'/' && excluded.AsSpan().StartsWith(path))
            {
                return true;
            }
        }

        return false;
    }

    private static int NextSlash(ReadOnlySpan<byte> path, int after)
    {
        var next = path[(after + 1)..].IndexOf((byte)'/');
        return next < 0 ? -1 : after + 1 + next;
    }
}
