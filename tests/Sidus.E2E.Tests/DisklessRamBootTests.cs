using System.Text;
using Sidus.E2E.Tests.Support;
using Sidus.Store.Objects;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// Real diskless boots: QEMU (tcg, no disk) boots the image's kernel with the Sidus initramfs; the agent gets a lease
/// from dnsmasq, fetches the version from the test's server in ram mode and hands over to systemd. Each test runs in
/// its own network namespace.
/// </summary>
public sealed class DisklessRamBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(300);

    [VmFact]
    public void RamMode_VmBootsFromServer_ReachesMultiUserAndReportsUp()
    {
        using var boot = new DisklessBoot(fixture, "node1");
        var up = DisklessBoot.WaitFor(() => boot.Server.Events.Any(e => e.Stage == "up"), BootLimit);
        var upAt = boot.Clock.Elapsed;
        DisklessBoot.WaitFor(() => boot.Serial.Contains("node1 login:", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Report(boot);
        var serial = boot.Serial;
        Assert.True(up, "no 'up' event within the limit; serial log:\n" + Tail(serial));
        var events = boot.Server.Events.ToList();
        Assert.All(events, e => Assert.Equal(boot.Mac.Replace(":", string.Empty, StringComparison.Ordinal), e.Mac.Replace(":", string.Empty, StringComparison.Ordinal)));
        Assert.Contains(events, e => e.Stage == "agent" && e.Detail.StartsWith("lease 10.77.0.", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Stage == "root" && e.Detail.StartsWith("ready:", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Stage == "failed");
        Assert.Contains("sidus-agent: root ready", serial, StringComparison.Ordinal);
        Assert.Contains("Reached target multi-user.target", serial, StringComparison.Ordinal);
        Assert.Contains("node1 login:", serial, StringComparison.Ordinal);
        output.WriteLine($"up after {upAt.TotalSeconds:F1} s; initramfs {new FileInfo(fixture.Boot.InitramfsPath).Length / 1024} KiB; agent {new FileInfo(fixture.AgentPath).Length / 1024} KiB");
    }

    [VmFact]
    public void RamMode_ServerDownAtFirst_AgentRetriesAndBoots()
    {
        using var boot = new DisklessBoot(fixture, "node2", server => server.DownUntil = DateTime.UtcNow.AddSeconds(45));
        var up = DisklessBoot.WaitFor(() => boot.Server.Events.Any(e => e.Stage == "up"), BootLimit);
        Report(boot);
        var serial = boot.Serial;
        Assert.True(up, "no 'up' event within the limit; serial log:\n" + Tail(serial));
        Assert.Contains("the server answered 503 for the manifest", serial, StringComparison.Ordinal);
        Assert.Contains("retrying in", serial, StringComparison.Ordinal);
        Assert.Contains(boot.Server.Events, e => e.Stage == "failed" && e.Detail.Contains("503", StringComparison.Ordinal));
    }

    [VmFact]
    public void RamMode_CorruptObjectOnServer_AgentRefusesAndSaysWhy()
    {
        var files = new Sidus.Artifacts.Versions.VersionFiles(fixture.Repository, fixture.Repository.ReadCommit(fixture.Version));
        Assert.True(files.TryResolve("/etc/debian_version", out var entry, out _));
        using var boot = new DisklessBoot(fixture, "node3", server => server.Corrupt = entry.Content);
        var refused = DisklessBoot.WaitFor(() => boot.Serial.Contains("REFUSED", StringComparison.Ordinal) &&
                                                 boot.Server.Events.Any(e => e.Stage == "failed"), BootLimit);
        // Give it time to (wrongly) go on: it must still be refusing, not booting.
        Thread.Sleep(TimeSpan.FromSeconds(10));
        Report(boot);
        var serial = boot.Serial;
        Assert.True(refused, "the agent did not refuse the corrupt file; serial log:\n" + Tail(serial));
        Assert.Contains($"etc/debian_version is corrupt on the server: content {entry.Content}", serial, StringComparison.Ordinal);
        Assert.DoesNotContain("switching to /sbin/init", serial, StringComparison.Ordinal);
        Assert.DoesNotContain(boot.Server.Events, e => e.Stage == "up");
    }

    private void Report(DisklessBoot boot)
    {
        foreach (var e in boot.Server.Events)
        {
            output.WriteLine($"event {e.Time:HH:mm:ss.fff} {e.Mac} {e.Stage}: {e.Detail}");
        }

        output.WriteLine("serial log (agent lines):");
        foreach (var line in boot.Serial.Split('\n').Where(l => l.Contains("sidus-agent", StringComparison.Ordinal) || l.Contains("Reached target", StringComparison.Ordinal)))
        {
            output.WriteLine(line.TrimEnd('\r'));
        }

        output.WriteLine(TestWorkDirectory.Describe(boot.Work));
    }

    private static string Tail(string text) => text.Length > 6000 ? text[^6000..] : text;
}
