using Sidus.Linux;
namespace Sidus.Server.Access;

/// <summary>
/// What node credentials cannot carry themselves, kept in HOME/server/node-boots so a restart forgets none of it:
/// the boots whose ticket was claimed (a ticket is claimed once), and each node's latest claimed boot (a claim
/// supersedes the node's earlier credentials). Claimed boots older than the ticket lifetime are dropped, since their
/// tickets are refused as expired anyway, and at most <see cref="MaxClaims"/> are kept: the file stays small.
/// The file is rewritten whole (temporary name, rename) at each claim: one per node boot.
/// </summary>
internal sealed class NodeBootJournal
{
    /// <summary>Claimed boots remembered at most (a flood of claims cannot grow the file without bound).</summary>
    public const int MaxClaims = 100_000;

    private const string ClaimWord = "claim";
    private const string CurrentWord = "current";

    private readonly string? _path;
    private readonly TimeSpan _keep;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, DateTimeOffset> _claimed = [];
    private readonly Dictionary<string, (ulong Boot, DateTimeOffset At)> _current = new(StringComparer.Ordinal);

    /// <param name="path">The file, or null to keep nothing on disk (tests).</param>
    /// <param name="keep">How long a claimed boot is remembered: the ticket lifetime.</param>
    public NodeBootJournal(string? path, TimeSpan keep)
    {
        _path = path;
        _keep = keep;
        if (path is not null && File.Exists(path))
        {
            Load(File.ReadAllLines(path));
        }
    }

    /// <summary>The node's latest claimed boot, or null.</summary>
    public (ulong Boot, DateTimeOffset At)? Current(string subject)
    {
        lock (_gate)
        {
            return _current.TryGetValue(subject, out var c) ? c : null;
        }
    }

    public bool IsClaimed(ulong boot)
    {
        lock (_gate)
        {
            return _claimed.ContainsKey(boot);
        }
    }

    /// <summary>Records the claim of BOOT by SUBJECT at NOW; false (and nothing changed) when it was claimed before.</summary>
    public bool TryClaim(ulong boot, string subject, DateTimeOffset issued, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_claimed.ContainsKey(boot))
            {
                return false;
            }

            Prune(now);
            var hadCurrent = _current.TryGetValue(subject, out var previous);
            _claimed[boot] = issued;
            _current[subject] = (boot, now);
            try
            {
                // On disk first: a claim the file does not hold is no claim (the node's retry must not meet a 409).
                Save();
            }
            catch
            {
                _claimed.Remove(boot);
                if (hadCurrent)
                {
                    _current[subject] = previous;
                }
                else
                {
                    _current.Remove(subject);
                }

                throw;
            }

            return true;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var old in _claimed.Where(c => now - c.Value > _keep).Select(c => c.Key).ToList())
        {
            _claimed.Remove(old);
        }

        // Each subject's latest claim is kept while it may matter (a ticket's life), and never more than MaxClaims.
        foreach (var stale in _current.Where(c => now - c.Value.At > _keep).OrderBy(c => c.Value.At)
                     .Take(Math.Max(0, _current.Count - MaxClaims + 1)).Select(c => c.Key).ToList())
        {
            _current.Remove(stale);
        }

        if (_claimed.Count >= MaxClaims)
        {
            foreach (var oldest in _claimed.OrderBy(c => c.Value).Take(_claimed.Count - MaxClaims + 1).Select(c => c.Key).ToList())
            {
                _claimed.Remove(oldest);
            }
        }
    }

    private void Save()
    {
        if (_path is null)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var (boot, issued) in _claimed)
        {
            text.Append(CultureInfo.InvariantCulture, $"{ClaimWord} {boot:x16} {issued.ToUnixTimeMilliseconds()}\n");
        }

        foreach (var (subject, (boot, at)) in _current)
        {
            text.Append(CultureInfo.InvariantCulture, $"{CurrentWord} {subject} {boot:x16} {at.ToUnixTimeMilliseconds()}\n");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        AtomicFile.WriteText(_path, text.ToString());
    }

    /// <summary>Reads the file; a line it does not understand is skipped (the file is ours, a damaged line costs one boot's record).</summary>
    private void Load(string[] lines)
    {
        foreach (var line in lines)
        {
            var words = line.Split(' ');
            if (words is [ClaimWord, var boot, var issued] && ulong.TryParse(boot, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b) && Seconds(issued) is { } i)
            {
                _claimed[b] = i;
            }
            else if (words is [CurrentWord, var subject, var current, var at] && ulong.TryParse(current, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var c) && Seconds(at) is { } a)
            {
                _current[subject] = (c, a);
            }
        }
    }

    private static DateTimeOffset? Seconds(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null;
}
