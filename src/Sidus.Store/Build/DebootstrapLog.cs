using Sidus.Store.Import;

namespace Sidus.Store.Build;

/// <summary>
/// What debootstrap says, kept whole in a log file and shown as one progress line: its ~250 "I: Retrieving ..."
/// lines become "debootstrap retrieving: 143 packages". When it fails, the message quotes the last lines and names
/// the log.
/// </summary>
public sealed class DebootstrapLog : IDisposable
{
    private const int QuotedLines = 12;
    private readonly object _gate = new();
    private readonly StreamWriter _file;
    private readonly IProgress<TransferProgress>? _progress;
    private readonly Queue<string> _last = new();
    private string? _phase;
    private long _count;

    public DebootstrapLog(string path, IProgress<TransferProgress>? progress)
    {
        Path = path;
        _progress = progress;
        _file = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>The last lines debootstrap wrote, for a failure's message.</summary>
    public string Tail
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _last);
            }
        }
    }

    public void Add(string line)
    {
        lock (_gate)
        {
            _file.WriteLine(line);
            _last.Enqueue(line);
            if (_last.Count > QuotedLines)
            {
                _last.Dequeue();
            }

            if (Phase(line) is { } phase)
            {
                _count = phase == _phase ? _count + 1 : 1;
                _phase = phase;
                _progress?.Report(new TransferProgress("debootstrap " + phase, _count, 0, 0, 0, "packages"));
            }
        }
    }

    /// <summary>"retrieving" for "I: Retrieving libc6 2.36-9", null for a line that is not a per-package step.</summary>
    public static string? Phase(string line)
    {
        if (!line.StartsWith("I: ", StringComparison.Ordinal))
        {
            return null;
        }

        var words = line[3..].Split(' ', 3);
        return words.Length >= 2 && words[0] is "Retrieving" or "Validating" or "Extracting" or "Unpacking" or "Configuring"
            ? words[0].ToLowerInvariant()
            : null;
    }

    public void Dispose() => _file.Dispose();
}
