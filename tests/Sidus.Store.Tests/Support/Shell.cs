using System.Diagnostics;

namespace Sidus.Store.Tests.Support;

/// <summary>Runs real tools (rsync, setfacl, tar...) for tests, with a time limit.</summary>
public static class Shell
{
    public static (int Code, string Output, string Error) Run(string file, params string[] arguments) =>
        Run(file, arguments, TimeSpan.FromMinutes(5));

    public static (int Code, string Output, string Error) Run(string file, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in {timeout}");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    public static string Sh(string script)
    {
        var (code, output, error) = Run("/bin/sh", ["-c", script], TimeSpan.FromMinutes(5));
        if (code != 0)
        {
            throw new InvalidOperationException($"sh -c '{script}' failed ({code}): {error}");
        }

        return output;
    }

    /// <summary>rsync's itemized list of differences between two trees (checksums, hardlinks, ACLs, xattrs); empty when equal.</summary>
    public static string RsyncDifferences(string expected, string actual)
    {
        var (code, output, error) = Run("rsync", "-naHAXc", "--delete", "-i", "--numeric-ids", expected.TrimEnd('/') + "/", actual.TrimEnd('/') + "/");
        if (code != 0)
        {
            throw new InvalidOperationException($"rsync failed ({code}): {error}");
        }

        return output.Trim();
    }
}
