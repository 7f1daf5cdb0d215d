using System.Diagnostics;

namespace Sidus.Cli.Commands.Demo;

/// <summary>A process the demo started (sidus serve, QEMU), its output appended to a log file; killed with its
/// children on dispose, which is safe to call more than once.</summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private int _disposed;

    public DemoProcess(string file, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        _process.OutputDataReceived += (_, e) => Write(e.Data);
        _process.ErrorDataReceived += (_, e) => Write(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>True once it exited, or once it was stopped by <see cref="Dispose"/>.</summary>
    public bool HasExited => Volatile.Read(ref _disposed) != 0 || _process.HasExited;

    public int ExitCode => _process.ExitCode;

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                _log.WriteLine(line);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill: nothing left to stop.
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
