using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// A shared node whose NBD server (qemu-nbd) is killed and started again while it runs: the agent's watcher
/// (agent nbd-watch, started by the runtime unit the agent wrote) sees the link die, negotiates the export again and
/// hands the new socket to the kernel with NBD_CMD_RECONFIGURE. Then the VM is shut down with ctrl-alt-del: the
/// shutdown runs programs the boot never read (systemd-shutdown, unit stops), so their pages come from the export
/// over the new connection; without it the reads wait for the dead-connection timeout (an hour) and the VM never stops
/// (checked by hand with the unit left out: systemd's stop jobs hung past the 120 s limit).
/// </summary>
public sealed class SharedReconnectTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private static readonly TimeSpan EventLimit = TimeSpan.FromMinutes(3);

    [VmFact]
    public void SharedMode_NbdServerRestarts_WatcherReconnectsAndVmStillShutsDown()
    {
        using var lab = new SharedBootLab(fixture);
        var vm = lab.StartVm("snode7");
        var up = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "up"), SharedBootLab.BootLimit);
        Assert.True(up, "no 'up' event; serial:\n" + SharedBootLab.Tail(vm.Serial));
        var watching = DisklessBoot.WaitFor(() => vm.Serial.Contains("nbd-watch: watching /dev/nbd", StringComparison.Ordinal), EventLimit);
        Assert.True(watching, "the watcher did not start; serial:\n" + SharedBootLab.Tail(vm.Serial));

        lab.StopNbd();
        var killedAt = vm.Clock.Elapsed;
        var lost = DisklessBoot.WaitFor(() => HasAgentEvent(lab, vm, "nbd connection to"), EventLimit);
        // Down long enough for at least one failed attempt: the watcher must retry, not give up.
        var retried = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.StartsWith("nbd reconnection to", StringComparison.Ordinal)), EventLimit);
        lab.StartNbd(fixture.Version.ToString());
        var reconnected = DisklessBoot.WaitFor(() => HasAgentEvent(lab, vm, "nbd reconnected to"), EventLimit);
        var reconnectedAt = vm.Clock.Elapsed;
        var cleanStop = vm.PowerDown();
        var serial = vm.Serial;
        lab.Report(vm, output);
        output.WriteLine($"server killed at {killedAt.TotalSeconds:F1} s, reconnected event by {reconnectedAt.TotalSeconds:F1} s; clean power-down: {cleanStop}");

        Assert.True(lost, "no 'nbd connection lost' event after the server was killed");
        Assert.True(retried, "no failed reconnection attempt reported while the server was down");
        Assert.True(reconnected, "no 'nbd reconnected' event after the server came back; serial:\n" + SharedBootLab.Tail(serial));
        var detail = lab.EventsOf(vm).First(e => e.Stage == "agent" && e.Detail.StartsWith("nbd reconnected to", StringComparison.Ordinal)).Detail;
        Assert.StartsWith($"nbd reconnected to {NetworkNamespace.HostAddress}:{SharedBootLab.NbdPort} after ", detail, StringComparison.Ordinal);
        Assert.Contains($"export {fixture.Version})", detail, StringComparison.Ordinal);
        // The kernel's own word that it took the new socket in place of the dead one.
        Assert.Contains("nbd0: reconnected socket", serial, StringComparison.Ordinal);
        Assert.True(cleanStop, "the VM did not shut down by itself after the reconnection (root I/O stuck?); serial:\n" + SharedBootLab.Tail(serial));
    }

    private static bool HasAgentEvent(SharedBootLab lab, SharedVm vm, string prefix) =>
        lab.EventsOf(vm).Any(e => e.Stage == "agent" && e.Detail.StartsWith(prefix, StringComparison.Ordinal));
}
