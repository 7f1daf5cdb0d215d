using System.ComponentModel;
using System.Diagnostics;

namespace Sidus.Linux;

/// <summary>What a finished tool left: its exit code and everything it wrote.</summary>
public sealed record ProcessResult(string Tool, int ExitCode, string Output, string Errors)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The tool's own explanation: its error output, or its output when it wrote nothing there.</summary>
    public string Explanation => (Errors.Trim().Length > 0 ? Errors : Output).Trim();

    /// <summary>"TOOL failed (exit N): EXPLANATION", for messages.</summary>
    public string FailureMessage => $"{Tool} failed (exit {ExitCode}): {Explanation}";
}

/// <summary>A tool that could not be started at all (not installed, not executable); says which package to install.</summary>
public sealed class ToolStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one way Sidus runs another program (mkfs.erofs, ssh-keygen, mke2fs, debootstrap...). Arguments are passed as a
/// list, never through a shell. Output is read on threads of its own, so a tool that fills one pipe while we wait on
/// the other never deadlocks, and a busy thread pool never loses output. A time limit or a cancellation kills the
/// tool and everything it started.
/// </summary>
public static class ProcessRunner
{
    private static readonly string[] SystemDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>Finds TOOL on PATH or in the sbin directories root's PATH has; null when absent.</summary>
    public static string? Find(string tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        if (tool.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(tool) ? tool : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':').Concat(SystemDirectories))
        {
            var candidate = Path.Combine(directory, tool);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Runs TOOL to the end with its output captured. FEED, when given, writes the tool's standard input (closed
    /// when FEED returns; without FEED the input is empty). A tool still running after TIMEOUT is killed and
    /// <see cref="TimeoutException"/> thrown; a cancellation kills it and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="package">The Debian package that has TOOL, named in the message when it cannot start.</param>
    public static ProcessResult Run(string tool, IEnumerable<string> arguments, string package, TimeSpan? timeout = null,
        Action<Stream>? feed = null, IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellation = default)
    {
        using var process = Start(tool, arguments, package, environment, capture: true);
        var output = ReadOnThread(process.StandardOutput);
        var errors = ReadOnThread(process.StandardError);
        using var kill = cancellation.Register(() => Kill(process));
        try
        {
            using (var input = process.StandardInput.BaseStream)
            {
                feed?.Invoke(input);
            }
        }
        catch (IOException) when (process.WaitForExit(TimeSpan.FromSeconds(30)) && process.ExitCode != 0)
        {
            // The tool stopped reading before FEED was done: its exit code and messages below say why.
        }

        if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            Kill(process);
            throw new TimeoutException($"{tool} took longer than {timeout!.Value.TotalSeconds:F0} s and was stopped");
        }

        process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        return new ProcessResult(tool, process.ExitCode, output.Result, errors.Result);
    }

    /// <summary>
    /// Runs TOOL with the terminal passed through (its progress and prompts reach the user as they come) and returns
    /// its exit code. On cancellation (Ctrl-C reaches the tool too: same process group) the tool has 10 s to clean
    /// up before it is killed.
    /// </summary>
    public static async Task<int> RunAttachedAsync(string tool, IEnumerable<string> arguments, string package,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellation = default)
    {
        using var process = Start(tool, arguments, package, environment, capture: false);
        try
        {
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Kill(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }

        return process.ExitCode;
    }

    /// <summary>
    /// Runs TOOL with its standard output and error read line by line, each line handed to ON_LINE as it comes (from
    /// reader threads: ON_LINE synchronizes itself), and returns its exit code. Cancellation as in
    /// <see cref="RunAttachedAsync"/>: 10 s to clean up, then the tool is killed.
    /// </summary>
    public static async Task<int> RunLineByLineAsync(string tool, IEnumerable<string> arguments, string package, Action<string> onLine,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        using var process = Start(tool, arguments, package, environment, capture: true);
        process.StandardInput.Close();
        var readers = new[] { ReadLines(process.StandardOutput, onLine), ReadLines(process.StandardError, onLine) };
        try
        {
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Kill(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }

        // A daemon the tool left behind may hold the pipes open: the lines up to now are enough.
        await Task.WhenAny(Task.WhenAll(readers), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        return process.ExitCode;
    }

    private static Task ReadLines(StreamReader reader, Action<string> onLine)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                while (reader.ReadLine() is { } line)
                {
                    onLine(line);
                }
            }
            catch (IOException e)
            {
                onLine("(output lost: " + e.Message + ")");
            }

            done.SetResult();
        })
        {
            IsBackground = true,
        };
        thread.Start();
        return done.Task;
    }

    private static Process Start(string tool, IEnumerable<string> arguments, string package,
        IReadOnlyDictionary<string, string>? environment, bool capture)
    {
        var start = new ProcessStartInfo(tool)
        {
            UseShellExecute = false,
            RedirectStandardInput = capture,
            RedirectStandardOutput = capture,
            RedirectStandardError = capture,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        try
        {
            return Process.Start(start) ?? throw new ToolStartException($"{tool} did not start");
        }
        catch (Win32Exception e)
        {
            throw new ToolStartException($"cannot run {tool} ({e.Message}): install it with 'apt-get install {package}'", e);
        }
    }

    private static Task<string> ReadOnThread(StreamReader reader)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(reader.ReadToEnd());
            }
            catch (IOException e)
            {
                done.SetResult("(output lost: " + e.Message + ")");
            }
        })
        { IsBackground = true, Name = "tool output" };
        thread.Start();
        return done.Task;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
        }
    }
}
