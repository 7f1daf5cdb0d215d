using System.Diagnostics;

namespace Sidus.Server.Tests;

/// <summary>Runs real programs (curl, tftp, the sidus CLI) with a time limit; a missing tool fails the test.</summary>
public static class Tools
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public sealed record Result(int ExitCode, byte[] Out, string Err)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Out);
    }

    public static async Task<Result> RunAsync(string program, IEnumerable<string> args, TimeSpan? limit = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("SIDUS_DB");
        psi.Environment.Remove("SIDUS_HOME");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is not installed (add its Debian package to tools/packages/test.txt): {e.Message}", e);
        }

        using (p)
        {
            p.StandardInput.Close();
            using var output = new MemoryStream();
            var stdout = p.StandardOutput.BaseStream.CopyToAsync(output);
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(limit ?? Limit);
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {(limit ?? Limit).TotalSeconds} s");
            }

            await stdout;
            return new Result(p.ExitCode, output.ToArray(), await stderr);
        }
    }

    /// <summary>curl with a bounded time; returns the body, and the status code on the last line of stderr-free output.</summary>
    /// <summary>curl's arguments that send an admin token.</summary>
    public static string[] Bearer(string token) => ["-H", "Authorization: Bearer " + token];

    public static async Task<(int Status, byte[] Body, string Headers)> CurlAsync(string url, params string[] extra)
    {
        var headers = Path.GetTempFileName();
        try
        {
            var args = new List<string> { "-sS", "--max-time", "30", "-g", "--path-as-is", "-D", headers, "-o", "-" };
            args.AddRange(extra);
            args.Add(url);
            var r = await RunAsync("curl", args);
            Assert.True(r.ExitCode == 0, $"curl {url} failed ({r.ExitCode}): {r.Err}");
            var head = await File.ReadAllTextAsync(headers);
            var statusLine = head.Split('\n').Last(l => l.StartsWith("HTTP/", StringComparison.Ordinal));
            return (int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), r.Out, head);
        }
        finally
        {
            File.Delete(headers);
        }
    }

    /// <summary>
    /// A machine's boot script the way iPXE gets it: while the server answers "preparing" (Retry-After), the script's
    /// own chain URL (the next attempt) is fetched again, sooner than the advised wait to keep tests quick; returns
    /// the first other answer and how many "preparing" answers came before it.
    /// </summary>
    public static async Task<(int Status, string Script, int Preparing)> BootScriptAsync(string http, string path, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        for (var preparing = 0; ; preparing++)
        {
            var (status, body, headers) = await CurlAsync(http + path);
            var script = System.Text.Encoding.UTF8.GetString(body);
            if (!headers.Contains("retry-after:", StringComparison.OrdinalIgnoreCase))
            {
                return (status, script, preparing);
            }

            Assert.True(DateTime.UtcNow < until, $"still preparing after {limit.TotalSeconds} s:\n{script}");
            const string chain = "chain --replace --autofree ";
            var line = script.Split('\n').Single(l => l.StartsWith(chain, StringComparison.Ordinal));
            path = line[chain.Length..line.IndexOf(' ', chain.Length)];
            await Task.Delay(250);
        }
    }

    /// <summary>Runs the built `sidus` CLI (sidus.dll next to the tests).</summary>
    public static Task<Result> SidusAsync(string home, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        Assert.True(File.Exists(dll), $"the CLI was not built next to the tests: {dll}");
        return RunAsync("dotnet", [dll, "--home", home, .. args]);
    }

    /// <summary>Waits until <paramref name="check"/> holds, polling; fails after <paramref name="limit"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> check, TimeSpan limit, string what)
    {
        var until = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < until)
        {
            if (await check())
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{what} did not happen within {limit.TotalSeconds} s");
    }
}
