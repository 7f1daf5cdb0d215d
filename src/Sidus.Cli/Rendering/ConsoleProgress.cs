using System.Diagnostics;
using Sidus.Store.Import;

namespace Sidus.Cli.Rendering;

/// <summary>
/// Shows progress of long operations on stderr: one line rewritten in place on a terminal, a line every few
/// seconds otherwise (logs stay readable), nothing with --quiet.
/// </summary>
public sealed class ConsoleProgress : IProgress<TransferProgress>, IDisposable
{
    private readonly object _gate = new();
    private readonly Func<TimeSpan> _clock;
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly bool _enabled;
    private static readonly TimeSpan MinimumRateTime = TimeSpan.FromMilliseconds(200);
    private TimeSpan _last = TimeSpan.FromDays(-1);
    private bool _dirty;

    // The rate is the current stage's: one ConsoleProgress often lives through several operations (the demo builds,
    // execs and checks out with one), and a rate over its whole life understated a 2.2 s checkout as 6.8 MiB/s.
    private string? _stage;
    private TimeSpan _stageStart;
    private long _stageStartBytes;

    public ConsoleProgress(bool enabled)
        : this(enabled, Console.Error, interactive: !Console.IsErrorRedirected, Stopwatch.StartNew())
    {
    }

    private ConsoleProgress(bool enabled, TextWriter writer, bool interactive, Stopwatch clock)
        : this(enabled, writer, interactive, () => clock.Elapsed)
    {
    }

    /// <summary>Progress written to WRITER, timed by CLOCK (tests drive both).</summary>
    public ConsoleProgress(bool enabled, TextWriter writer, bool interactive, Func<TimeSpan> clock)
    {
        _enabled = enabled;
        _writer = writer;
        _interactive = interactive;
        _clock = clock;
    }

    public void Report(TransferProgress value)
    {
        if (!_enabled)
        {
            return;
        }

        lock (_gate)
        {
            var now = _clock();
            if (value.Stage != _stage || value.Bytes < _stageStartBytes)
            {
                (_stage, _stageStart, _stageStartBytes) = (value.Stage, now, value.Bytes);
            }

            var interval = _interactive ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(5);
            var finished = value.Items == value.TotalItems;
            if (now - _last < interval && !finished)
            {
                return;
            }

            _last = now;
            var line = Line(value, now - _stageStart, value.Bytes - _stageStartBytes);
            if (_interactive)
            {
                _writer.Write("\r\u001b[K" + line);
                _dirty = true;
            }
            else
            {
                _writer.WriteLine(line);
            }
        }
    }

    /// <summary>The progress line: nothing about bytes before any moved, and a rate only once it means something.</summary>
    public static string Line(TransferProgress value, TimeSpan stageTime, long stageBytes)
    {
        var files = value.TotalItems > 0 ? $"{value.Items}/{value.TotalItems} {value.Unit}" : $"{value.Items} {value.Unit}";
        if (value.Bytes == 0)
        {
            return value.TotalBytes > 0 ? $"{value.Stage}: {files}, {Units.Bytes(value.TotalBytes)} to go" : $"{value.Stage}: {files}";
        }

        var bytes = value.TotalBytes > 0 ? $"{Units.Bytes(value.Bytes)}/{Units.Bytes(value.TotalBytes)}" : Units.Bytes(value.Bytes);
        var rate = stageTime >= MinimumRateTime && stageBytes > 0
            ? $" ({Units.Bytes((long)(stageBytes / stageTime.TotalSeconds))}/s)"
            : string.Empty;
        return $"{value.Stage}: {files}, {bytes}{rate}";
    }

    public void Message(string text)
    {
        lock (_gate)
        {
            Clear();
            _writer.WriteLine(text);
        }
    }

    /// <summary>Ends the line of the operation that finished; the next report starts a new stage (and rate).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            Clear();
            _stage = null;
        }
    }

    private void Clear()
    {
        if (_dirty)
        {
            _writer.Write("\r\u001b[K");
            _dirty = false;
        }
    }
}
