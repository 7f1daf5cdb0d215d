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
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly bool _enabled;
    private TimeSpan _last = TimeSpan.FromDays(-1);
    private bool _dirty;

    public ConsoleProgress(bool enabled) => _enabled = enabled;

    public void Report(TransferProgress value)
    {
        if (!_enabled)
        {
            return;
        }

        lock (_gate)
        {
            var now = _clock.Elapsed;
            var interval = _interactive ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(5);
            var finished = value.Items == value.TotalItems;
            if (now - _last < interval && !finished)
            {
                return;
            }

            _last = now;
            var rate = now.TotalSeconds > 0 ? value.Bytes / now.TotalSeconds : 0;
            var line = $"{value.Stage}: {value.Items}/{value.TotalItems} files, {Units.Bytes(value.Bytes)}/{Units.Bytes(value.TotalBytes)} ({Units.Bytes((long)rate)}/s)";
            if (_interactive)
            {
                Console.Error.Write("\r\u001b[K" + line);
                _dirty = true;
            }
            else
            {
                Console.Error.WriteLine(line);
            }
        }
    }

    public void Message(string text)
    {
        lock (_gate)
        {
            Clear();
            Console.Error.WriteLine(text);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Clear();
        }
    }

    private void Clear()
    {
        if (_dirty)
        {
            Console.Error.Write("\r\u001b[K");
            _dirty = false;
        }
    }
}
