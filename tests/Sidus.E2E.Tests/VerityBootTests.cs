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

    [Fact]
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

    [Fact]
    public void SharedMode_ExportBlockCorrupted_NodeRefusesAndSaysWhy()
    {
        using var lab = new SharedBootLab(fixture, startNbd: false);
        var export = new VerityExport(lab.Export, lab.Work);
        export.Corrupt(block: 0, offset: 1024 + 8); // inside the EROFS superblock: the mount must read it
        lab.StartNbd(fixture.Version.ToString(), export.Path);
        var vm = lab.StartVm("vnode2", extra: export.Argument);
        var refused = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains("fails verification", StringComparison.Ordinal)), SharedBootLab.BootLimit);
        lab.Report(vm, output);
        Assert.True(refused, "no 'fails verification' failure reported; serial:\n" + SharedBootLab.Tail(vm.Serial));
        Assert.Contains($"REFUSED: export {fixture.Version} fails verification against root hash {export.RootHash}", vm.Serial, StringComparison.Ordinal);
        Assert.Contains("data block 0 is corrupted", vm.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("switching to /sbin/init", vm.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain(lab.EventsOf(vm), e => e.Stage == "up");
    }

    [Fact]
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
