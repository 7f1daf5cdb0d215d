using System.Diagnostics;

namespace Sidus.Store.Build;

/// <summary>Runs a system tool (debootstrap, unshare, mksquashfs...) with the terminal passed through.</summary>
public static class ExternalTool
{
    /// <summary>Finds TOOL on PATH or in the sbin directories root's PATH has; null when absent.</summary>
    public static string? Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':').Concat(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            var candidate = Path.Combine(dir, tool);
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static string Require(string tool, string package) =>
        Find(tool) ?? throw new StoreException($"'{tool}' is not installed: install it with 'apt-get install {package}'", ExitCodes.Failure);

    /// <summary>Runs the tool, its output going to our stderr/stdout as it comes; returns its exit code.</summary>
    public static async Task<int> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellation,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new StoreException($"cannot start {file}");
        try
        {
            await process.WaitForExitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C reaches the tool too (same process group); give it a moment to clean up, then make sure.
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            throw;
        }

        return process.ExitCode;
    }
}
