using System.Diagnostics;

namespace Sidus.Store.Tests.Support;

/// <summary>The real sidus CLI, run as its own process (for kill -9, lock and exit-code tests).</summary>
public static class SidusProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "sidus.dll");

    public static Process Start(string home, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        start.ArgumentList.Add("--home");
        start.ArgumentList.Add(home);
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start)!;
    }

    public static (int Code, string Output, string Error) Run(string home, params string[] arguments)
    {
        using var process = Start(home, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sidus " + string.Join(' ', arguments));
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}
