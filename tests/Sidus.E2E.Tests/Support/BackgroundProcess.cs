using System.Diagnostics;

namespace Sidus.E2E.Tests.Support;

/// <summary>A process the test started (dnsmasq, QEMU); killed with its children on dispose.</summary>
internal sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;

    private bool _disposed;

    public BackgroundProcess(string file, IEnumerable<string> arguments, string logPath)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => Write(log, e.Data);
        _process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    private static void Write(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}
