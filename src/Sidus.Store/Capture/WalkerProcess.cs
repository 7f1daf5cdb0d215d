using System.Diagnostics;

namespace Sidus.Store.Capture;

/// <summary>
/// A running walker, local or behind ssh: its standard input and output are the capture's two directions, its
/// standard error is kept (the last lines explain a failure). Disposing it kills what is still running.
/// </summary>
public sealed class WalkerProcess : ICaptureChannel, IDisposable
{
    private const int KeptErrorLines = 20;
    private readonly Process _process;
    private readonly Queue<string> _errors = new();
    private readonly Task _errorReader;
    private long _lastActivity = Environment.TickCount64;

    private WalkerProcess(Process process)
    {
        _process = process;
        FromWalker = new ActivityStream(process.StandardOutput.BaseStream, this);
        _errorReader = Task.Run(ReadErrorsAsync);
    }

    /// <summary>What the walker sends (reading it counts as activity for the idle watch).</summary>
    public Stream FromWalker { get; }

    public Stream ToWalker => _process.StandardInput.BaseStream;

    /// <summary>Bytes of the walker program sent ahead of it (ssh), 0 where the client ran a copy it kept.</summary>
    public long WalkerBytes { get; internal set; }

    /// <summary>Milliseconds since the walker last sent anything.</summary>
    public long IdleMilliseconds => Environment.TickCount64 - Interlocked.Read(ref _lastActivity);

    /// <summary>Runs FILE with ARGUMENTS, and ENVIRONMENT's variables set (null values removed) over this process's.</summary>
    public static WalkerProcess Start(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        try
        {
            return new WalkerProcess(Process.Start(start)!);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new StoreException($"cannot run {file}: {e.Message}", StoreErrorKind.Failure);
        }
    }

    /// <summary>Stops the walker (and the connection to it): reads of its output end.</summary>
    public void Abort()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Waits for the walker to end (at most TIMEOUT, then kills it); returns its exit code and last errors.</summary>
    public (int ExitCode, string Errors) Finish(TimeSpan timeout)
    {
        try
        {
            ToWalker.Close();
        }
        catch (IOException)
        {
        }

        if (!_process.WaitForExit(timeout))
        {
            Abort();
            _process.WaitForExit();
        }

        _errorReader.Wait(TimeSpan.FromSeconds(5));
        lock (_errors)
        {
            return (_process.ExitCode, string.Join('\n', _errors));
        }
    }

    /// <summary>The last lines the walker (or ssh) wrote to its standard error.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    private async Task ReadErrorsAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_errors)
            {
                _errors.Enqueue(line);
                if (_errors.Count > KeptErrorLines)
                {
                    _errors.Dequeue();
                }
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Abort();
        }

        _process.Dispose();
    }

    private sealed class ActivityStream(Stream inner, WalkerProcess owner) : Formats.ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Interlocked.Exchange(ref owner._lastActivity, Environment.TickCount64);
            return n;
        }
    }
}
