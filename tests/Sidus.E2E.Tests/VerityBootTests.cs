using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// The node's dm-verity check of its export, against peers Sidus did not write: veritysetup makes the hash tree,
/// qemu-nbd serves the file, the VM's kernel checks every block. A good export boots (shared, and ram mode, which
/// then copies the export into RAM and leaves the server); an export with one flipped byte is refused.
/// </summary>
public sealed class VerityBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{

    [VmFact]
    public void SharedMode_VerityExport_RootOnVerityDevice()
    {
        using var lab = new SharedBootLab(fixture, startNbd: false);
        var export = new VerityExport(lab.Export, lab.Work);
        lab.StartNbd(fixture.Version.ToString(), export.Path);
        var vm = lab.StartVm("vnode1", extra: export.Argument);
        var up = lab.WaitUp(vm);
        lab.Report(vm, output);
        Assert.StartsWith("erofs:/dev/dm-", SharedBootLab.Fact(up, "lower"), StringComparison.Ordinal);
        Assert.Contains("dm-verity over /dev/nbd", vm.Serial, StringComparison.Ordinal);
        Assert.Contains(lab.EventsOf(vm), e => e.Stage == "root" && e.Detail.Contains("verified by dm-verity", StringComparison.Ordinal));
        Assert.DoesNotContain("is corrupted", vm.Serial, StringComparison.Ordinal);
    }

    [VmFact]
    public void SharedMode_ExportBlockCorrupted_NodeRefusesAndSaysWhy()
    {
        using var lab = new SharedBootLab(fixture, startNbd: false);
        var export = new VerityExport(lab.Export, lab.Work);
        export.Corrupt(block: 0, offset: 1024 + 8); // inside the EROFS superblock: the mount must read it
        lab.StartNbd(fixture.Version.ToString(), export.Path);
        var vm = lab.StartVm("vnode2", extra: export.Argument);
        var refused = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains("fails verification", StringComparison.Ordinal)), SharedBootLab.BootLimit);
        // The agent reports to the server before it prints its REFUSED line on the console: give the serial a moment.
        DisklessBoot.WaitFor(() => vm.Serial.Contains("REFUSED: export", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        lab.Report(vm, output);
        Assert.True(refused, "no 'fails verification' failure reported; serial:\n" + SharedBootLab.Tail(vm.Serial));
        Assert.Contains($"REFUSED: export {fixture.Version} fails verification against root hash {export.RootHash}", vm.Serial, StringComparison.Ordinal);
        Assert.Contains("data block 0 is corrupted", vm.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("switching to /sbin/init", vm.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain(lab.EventsOf(vm), e => e.Stage == "up");
    }

    /// <summary>
    /// A block that fails its check after boot (here: the first block of a file nothing reads until a unit of the
    /// node's override layer does, once the system is up) gives its reader an I/O error and the kernel a log line;
    /// the watcher forwards that line to the server, once however many times the kernel logs it within a minute.
    /// </summary>
    [VmFact]
    public void SharedMode_BlockCorruptedReadAfterBoot_WatcherReportsTheKernelsLine()
    {
        const string LateFile = "/usr/share/common-licenses/GPL-3";
        using var lab = new SharedBootLab(fixture, startNbd: false);
        var export = new VerityExport(lab.Export, lab.Work);
        var block = VerityExport.FirstBlockOf(lab.Export, LateFile);
        export.Corrupt(block, offset: 100);
        lab.Server.ExtraOverrides = ReadAfterUp(LateFile);
        lab.StartNbd(fixture.Version.ToString(), export.Path);
        var vm = lab.StartVm("vnode4", extra: export.Argument);
        lab.WaitUp(vm);
        var corrupted = $"data block {block} is corrupted";
        var reported = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains(corrupted, StringComparison.Ordinal)), SharedBootLab.BootLimit);
        // Whatever else the kernel logs about it within the minute is held back, not sent.
        Thread.Sleep(TimeSpan.FromSeconds(10));
        lab.Report(vm, output);
        Assert.True(reported, $"no '{corrupted}' report reached the server; serial:\n" + SharedBootLab.Tail(vm.Serial));
        var reports = lab.EventsOf(vm).Where(e => e.Detail.StartsWith("dm-verity error on the root", StringComparison.Ordinal)).ToList();
        Assert.Single(reports);
        Assert.Matches($@"^dm-verity error on the root \(its reader got an I/O error\): device-mapper: verity: \d+:\d+: {corrupted}", reports[0].Detail);
        Assert.Contains(corrupted, vm.Serial, StringComparison.Ordinal);
        Assert.Contains("sidus-read-late-file", vm.Serial, StringComparison.Ordinal);
    }

    /// <summary>A unit, started once the system is up, that reads PATH.</summary>
    private static Sidus.Nodes.Overrides.OverrideFile[] ReadAfterUp(string path)
    {
        const string Unit = "etc/systemd/system/sidus-read-late-file.service";
        var text = $"[Unit]\nDescription=sidus-read-late-file\nAfter=sidus-up.service\n\n[Service]\nType=oneshot\nExecStart=/bin/cat {path}\nStandardOutput=null\n\n" +
                   "[Install]\nWantedBy=multi-user.target\n";
        return
        [
            new(Unit, Sidus.Nodes.Overrides.OverrideKind.File, System.Text.Encoding.UTF8.GetBytes(text), 0x1A4, 0, 0, Sidus.Nodes.Overrides.OverrideOrigins.Node),
            new("etc/systemd/system/multi-user.target.wants/sidus-read-late-file.service", Sidus.Nodes.Overrides.OverrideKind.Symlink, [], 0x1FF, 0, 0,
                Sidus.Nodes.Overrides.OverrideOrigins.Node, LinkTarget: "../sidus-read-late-file.service"),
        ];
    }

    [VmFact]
    public void RamMode_FromExport_CopiesIntoRamThenNeedsNoServer()
    {
        using var lab = new SharedBootLab(fixture, startNbd: false);
        var export = new VerityExport(lab.Export, lab.Work);
        lab.StartNbd(fixture.Version.ToString(), export.Path);
        var vm = lab.StartVm("vnode3", mode: "ram", extra: export.Argument);
        var up = lab.WaitUp(vm);
        var detached = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Detail.StartsWith("ram: the root is in RAM", StringComparison.Ordinal)), SharedBootLab.BootLimit);
        lab.Report(vm, output);
        Assert.True(detached, "no 'ram: the root is in RAM' event; serial:\n" + SharedBootLab.Tail(vm.Serial));
        Assert.StartsWith("erofs:/dev/dm-", SharedBootLab.Fact(up, "lower"), StringComparison.Ordinal);
        Assert.Contains(lab.EventsOf(vm), e => e.Stage == "root" && e.Detail.StartsWith($"ready: ram, export {fixture.Version}", StringComparison.Ordinal));

        // The server goes away. A node still reading its root over NBD would hang at shutdown on the first block
        // it has not read yet (the kernel waits an hour for a reconnection); a node whose root is in RAM stops.
        lab.StopNbd();
        var clean = vm.PowerDown();
        Assert.True(clean, "the ram node did not shut down by itself with the NBD server gone; serial:\n" + SharedBootLab.Tail(vm.Serial));
        Assert.DoesNotContain(lab.EventsOf(vm), e => e.Stage == "failed");
    }
}
