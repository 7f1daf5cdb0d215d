using System.Diagnostics;

namespace Sidus.Testing;

/// <summary>Runs a program to completion with a deadline, capturing its output.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static CommandResult Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
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
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var stdout = ReadOnOwnThread(process.StandardOutput);
        var stderr = ReadOnOwnThread(process.StandardError);
        var limit = timeout ?? DefaultTimeout;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            throw new TimeoutException($"'{file} {string.Join(' ', info.ArgumentList)}' did not finish within {limit}.");
        }
        // A daemon the program forked may hold the pipes open forever: read what is there, bounded.
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(5));
        return new CommandResult(process.ExitCode, Completed(stdout), Completed(stderr));
    }

    /// <summary>Reads to the end on a thread of its own: tests that run several programs at once from pool threads
    /// starve the thread pool, and a pool-based read then misses the bounded wait above (a CI run lost udhcpc's
    /// output that way while udhcpc had exited 0).</summary>
    private static Task<string> ReadOnOwnThread(StreamReader reader) =>
        Task.Factory.StartNew(reader.ReadToEnd, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static string Completed(Task<string> read) =>
        read.IsCompletedSuccessfully ? read.Result : "(output still open: a forked child holds it)";

    /// <summary>Runs and throws with the full output when the exit code is not zero.</summary>
    public static CommandResult RunChecked(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var result = Run(file, arguments, timeout);
        if (!result.Succeeded)
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed: {result}");
        return result;
    }
}
