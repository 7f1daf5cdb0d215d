using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Text;

namespace Sidus.Testing;

/// <summary>A long-running program (a server or a DHCP client) with its output collected as it comes, bounded waits
/// for that output, and a stop that asks politely (SIGTERM) before it kills.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    // Never disposed: the process's event handlers may still signal it after Dispose, on a pool thread.
    private readonly SemaphoreSlim _changed = new(0);
    private bool _disposed;

    internal BackgroundProcess(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        CommandLine = $"{file} {string.Join(' ', info.ArgumentList)}";
        DefaultSignals.Apply(info);
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Exited += (_, _) => _changed.Release();
        if (!_process.Start())
            throw new InvalidOperationException($"Could not start {CommandLine}.");
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <paramref name="file"/> in this network namespace (for programs that only use loopback, or
    /// that do no networking at all); <see cref="NetworkNamespace.Start"/> runs one inside a test's namespace.</summary>
    public static BackgroundProcess Start(string file, IEnumerable<string> arguments) => new(file, arguments);

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything printed so far (stdout and stderr interleaved by line).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
                return _output.ToString();
        }
    }

    /// <summary>Waits until the output satisfies <paramref name="condition"/>; false on timeout or when the process
    /// ended without it.</summary>
    public async Task<bool> WaitForOutputAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (condition(Output))
                return true;
            if (_process.HasExited)
            {
                // The last lines may still be on their way from the pipe (bounded: a forked child may keep it open).
                _process.WaitForExit(1000);
                return condition(Output);
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                return false;
            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
    }

    public Task<bool> WaitForOutputAsync(string text, TimeSpan timeout) =>
        WaitForOutputAsync(o => o.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>Waits for the process to end by itself; false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        return _process.WaitForExit(timeout);
    }

    public const int SigHup = 1;
    public const int SigTerm = Native.SigTerm;

    /// <summary>Sends <paramref name="signal"/> (SIGHUP: a server reloads; SIGTERM: it stops) without waiting.</summary>
    public void Signal(int signal)
    {
        if (!_disposed && !_process.HasExited && Native.kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        if (_disposed || _process.HasExited)
            return;
        _ = Native.kill(_process.Id, Native.SigTerm);
        if (_process.WaitForExit(grace))
            return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        Stop(TimeSpan.FromSeconds(3));
        _disposed = true;
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_gate)
            _output.AppendLine(line);
        _changed.Release();
    }
}
