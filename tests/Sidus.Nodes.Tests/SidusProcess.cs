using System.Diagnostics;

namespace Sidus.Nodes.Tests;

/// <summary>Runs the built `sidus` (sidus.dll next to the tests) as a child process with a private --home.</summary>
public sealed class SidusProcess : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public SidusProcess()
    {
        Home = Path.Combine(Path.GetTempPath(), "sidus-cli-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Home);
    }

    public string Home { get; }

    public string DbPath => Path.Combine(Home, "inventory.db");

    public sealed record Result(int ExitCode, string Out, string Err);

    public async Task<Result> RunAsync(params string[] args) => await RunWithInputAsync(null, args);

    public async Task<Result> RunWithInputAsync(string? stdin, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        Assert.True(File.Exists(dll), $"the CLI was not built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(Home);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("SIDUS_DB");
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
        }

        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(Limit);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"sidus {string.Join(' ', args)} ran longer than {Limit}");
        }

        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Imports VERSIONS versions of IMAGE into the home's store (a small tree, its content different each time).</summary>
    public async Task ImportImageAsync(string image, int versions)
    {
        var tree = Path.Combine(Home, "src-" + image);
        Directory.CreateDirectory(Path.Combine(tree, "etc"));
        for (var i = 1; i <= versions; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(tree, "etc", "release"), $"{image} {i}\n");
            var r = await RunAsync("image", "import", image, tree, "-q");
            Assert.True(r.ExitCode == 0, r.Err);
        }
    }

    public void Dispose() => Directory.Delete(Home, recursive: true);
}
