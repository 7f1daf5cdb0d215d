using System.Diagnostics;
using Sidus.Cli.Tests.Support;
using Sidus.Testing;

namespace Sidus.Cli.Tests;

/// <summary>`sidus node status --watch` piped: the header once, then a row each time one changes, until Ctrl-C.</summary>
public sealed class StatusWatchTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly SidusRun _sidus = new();

    public void Dispose() => _sidus.Dispose();

    [Fact]
    public async Task Piped_watch_appends_changed_rows_and_ends_cleanly_on_ctrl_c()
    {
        Assert.Equal(0, _sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01").ExitCode);
        using var watch = _sidus.StartLive("node", "status", "--watch", "--interval", "1");
        watch.StandardInput.Close();
        var lines = watch.StandardOutput;
        Assert.StartsWith("NODE\tMAC\tSTAGE", await Next(lines), StringComparison.Ordinal);
        Assert.StartsWith("n1\t52:54:00:00:00:01\t-", await Next(lines), StringComparison.Ordinal);

        // Nothing changed: nothing is printed; a new node is one new line, n1 is not repeated.
        Assert.Equal(0, _sidus.Run("node", "add", "n2", "--mac", "52:54:00:00:00:02").ExitCode);
        Assert.StartsWith("n2\t52:54:00:00:00:02\t-", await Next(lines), StringComparison.Ordinal);

        var started = Stopwatch.StartNew();
        Assert.True(ProcessRunner.Run(Tool.Require("bash", "bash"), ["-c", $"kill -INT {watch.Id}"]).Succeeded);
        Assert.True(watch.WaitForExit(Patience), "the watch did not stop on SIGINT");
        Assert.Equal(ExitCodes.Interrupted, watch.ExitCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {started.Elapsed}");
        Assert.Equal(string.Empty, await lines.ReadToEndAsync());
    }

    [Fact]
    public void An_interval_out_of_range_is_refused()
    {
        var result = _sidus.Run("node", "status", "--watch", "--interval", "0");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--interval 0", result.Err, StringComparison.Ordinal);
    }

    private static async Task<string> Next(StreamReader output)
    {
        using var limit = new CancellationTokenSource(Patience);
        return await output.ReadLineAsync(limit.Token) ?? throw new InvalidOperationException("the watch ended early");
    }
}
