using System.Diagnostics;

namespace Sidus.E2E.Tests.Support;

/// <summary>Runs external commands with a time limit; a missing tool fails the test with the package to install.</summary>
internal static class Tool
{
    public static string Require(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"{name} is missing: apt-get install {package} (listed in tools/packages/test.txt)");
    }

    public static string Run(string file, params string[] arguments) => Run(TimeSpan.FromMinutes(2), file, arguments);

    public static string Run(TimeSpan limit, string file, params string[] arguments)
    {
        var (code, output) = TryRun(limit, file, arguments);
        return code == 0 ? output : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({code}): {output}");
    }

    public static (int Code, string Output) TryRun(TimeSpan limit, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {limit}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
