using System.Diagnostics;
using Sidus.Testing;

namespace Sidus.Cli.Tests.Support;

/// <summary>Runs the built `sidus` (sidus.dll next to the tests) as a child process, output piped, with a private --home.</summary>
public sealed class SidusRun : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public string Home { get; } = Directory.CreateTempSubdirectory("sidus-cli-").FullName;

    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Err}";
    }

    public Result Run(params string[] args) => Start(args, out var process).Finish(process);

    /// <summary>
    /// Starts sidus and lets the test read its output as it comes; the test stops it (Ctrl-C: SIGINT, which
    /// <see cref="DefaultSignals"/> makes reach it however the suite was started).
    /// </summary>
    public Process StartLive(params string[] args)
    {
        var info = Info(args);
        DefaultSignals.Apply(info);
        return Process.Start(info)!;
    }

    private SidusRun Start(string[] args, out Process process)
    {
        process = Process.Start(Info(args))!;
        process.StandardInput.Close();
        return this;
    }

    private Result Finish(Process process)
    {
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Limit))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"sidus ran longer than {Limit}");
            }

            return new Result(process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    private ProcessStartInfo Info(string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        Assert.True(File.Exists(dll), $"the CLI was not built next to the tests: {dll}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--home");
        info.ArgumentList.Add(Home);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("SIDUS_DB");
        info.Environment.Remove("SIDUS_HOME");
        return info;
    }

    public void Dispose() => Directory.Delete(Home, recursive: true);
}
