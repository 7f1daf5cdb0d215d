using Sidus.Cli.Rendering;
using Sidus.Store.Build;
using Sidus.Store.Import;

namespace Sidus.Cli.Tests;

/// <summary>Progress lines as the demo showed them: one ConsoleProgress through a build, an exec and a checkout.</summary>
public sealed class ProgressTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void The_rate_is_the_current_stages_not_the_whole_run_since_the_progress_was_made()
    {
        var now = TimeSpan.Zero;
        var output = new StringWriter();
        using var progress = new ConsoleProgress(enabled: true, output, interactive: false, () => now);
        progress.Report(new TransferProgress("storing files", 5000, 5000, 300 * MiB, 300 * MiB));
        progress.Dispose();

        // 55 s of other work (the demo's exec), then the checkout writes 389 MiB in 2.2 s.
        now = TimeSpan.FromSeconds(55);
        progress.Report(new TransferProgress("writing files", 0, 4000, 0, 389 * MiB));
        now = TimeSpan.FromSeconds(57.2);
        progress.Report(new TransferProgress("writing files", 4000, 4000, 389 * MiB, 389 * MiB));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("writing files: 0/4000 files, 389.0 MiB to go", lines[^2]);
        Assert.Equal("writing files: 4000/4000 files, 389.0 MiB/389.0 MiB (176.8 MiB/s)", lines[^1]);
    }

    [Fact]
    public void Nothing_about_bytes_or_rate_is_shown_before_any_byte_moved()
    {
        Assert.Equal("reading archive: 0 files, 398.1 MiB to go",
            ConsoleProgress.Line(new TransferProgress("reading archive", 0, 0, 0, (long)(398.1 * MiB)), TimeSpan.FromSeconds(3), 0));
        Assert.Equal("verifying objects: 10/20 files, 5.0 MiB",
            ConsoleProgress.Line(new TransferProgress("verifying objects", 10, 20, 5 * MiB, 0), TimeSpan.FromMilliseconds(10), 5 * MiB));
    }

    [Fact]
    public void Debootstraps_retrieving_lines_become_one_progress_count_and_the_whole_output_is_kept_in_its_log()
    {
        var log = Path.Combine(Path.GetTempPath(), $"sidus-debootstrap-{Guid.NewGuid():N}.log");
        var reports = new List<TransferProgress>();
        try
        {
            using (var debootstrap = new DebootstrapLog(log, new SynchronousProgress(reports.Add)))
            {
                debootstrap.Add("I: Retrieving InRelease ");
                debootstrap.Add("I: Checking Release signature");
                for (var i = 0; i < 250; i++)
                {
                    debootstrap.Add($"I: Retrieving package{i} 1.{i}-1");
                }

                debootstrap.Add("I: Extracting libc6...");
                debootstrap.Add("E: Couldn't download packages: systemd");
                Assert.EndsWith("E: Couldn't download packages: systemd", debootstrap.Tail, StringComparison.Ordinal);
                Assert.Equal(12, debootstrap.Tail.Split('\n').Length);
            }

            Assert.Equal(254, File.ReadAllLines(log).Length);
            Assert.Equal(new TransferProgress("debootstrap retrieving", 251, 0, 0, 0, "packages"), reports[^2]);
            Assert.Equal(new TransferProgress("debootstrap extracting", 1, 0, 0, 0, "packages"), reports[^1]);
            Assert.Equal("debootstrap retrieving: 251 packages", ConsoleProgress.Line(reports[^2], TimeSpan.FromSeconds(1), 0));
        }
        finally
        {
            File.Delete(log);
        }
    }

    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}
