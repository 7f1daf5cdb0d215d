using System.Security.Cryptography;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// Real shared-mode boots: QEMU (tcg, no boot disk) boots the image's kernel with the Sidus initramfs; the agent
/// gets a lease from dnsmasq, negotiates the version's EROFS export with a real NBD server (qemu-nbd), hands the
/// socket to the kernel, builds the overlay root and switches to systemd. What the booted system says in its "up"
/// report (root=, lower=, upper=, boot=: read from its own /proc/self/mountinfo and a boot counter kept in its
/// root) is what these tests check, with the console and, for the disk, debugfs on the disk image afterwards.
/// </summary>
public sealed class SharedBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{

    [VmFact]
    public void SharedMode_TmpfsOverlay_RootIsOverlayOnExportAndChangesGoneAfterReboot()
    {
        using var lab = new SharedBootLab(fixture);
        var vm = lab.StartVm("snode1");
        var first = lab.WaitUp(vm, 1);
        var upAt = vm.Clock.Elapsed;
        var multiUser = WaitMultiUser(vm);
        var cleanStop = vm.PowerDown();
        vm.Start();
        var second = lab.WaitUp(vm, 2);
        lab.Report(vm, output);
        output.WriteLine($"up after {upAt.TotalSeconds:F1} s; clean power-down: {cleanStop}; first: {first}; second: {second}");
        Assert.Equal("overlay:overlay", SharedBootLab.Fact(first, "root"));
        Assert.StartsWith("erofs:/dev/nbd", SharedBootLab.Fact(first, "lower"), StringComparison.Ordinal);
        Assert.Equal("tmpfs", SharedBootLab.Fact(first, "upper"));
        Assert.Equal("1", SharedBootLab.Fact(first, "boot"));
        // The counter the first boot wrote into its root is gone: the second boot counts from scratch.
        Assert.Equal("1", SharedBootLab.Fact(second, "boot"));
        var events = lab.EventsOf(vm);
        Assert.Contains(events, e => e.Stage == "root" && e.Detail.StartsWith($"ready: shared, export {fixture.Version}", StringComparison.Ordinal) && e.Detail.EndsWith("overlay tmpfs", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Stage == "failed");
        Assert.True(multiUser, "the first boot did not reach multi-user.target");
        Assert.True(WaitMultiUser(vm), "the second boot did not reach multi-user.target");
    }

    [VmFact]
    public void SharedMode_BlankDiskOverlay_FormattedOnceAndChangesKeptAcrossReboot()
    {
        using var lab = new SharedBootLab(fixture);
        var other = OtherDisk(lab, "other.raw", xfs: false);
        var otherHash = Hash(other);
        var overlayDisk = Path.Combine(lab.Work, "overlay.raw");
        using (var f = File.Create(overlayDisk))
        {
            f.SetLength(1L << 30);
        }

        var vm = lab.StartVm("snode2", "disk:/dev/vdb", [other, overlayDisk]);
        var first = lab.WaitUp(vm, 1);
        Assert.True(WaitMultiUser(vm), "the first boot did not reach multi-user.target");
        var firstSerial = vm.Serial;
        var cleanStop = vm.PowerDown();
        var onDisk = Tool.Run(Tool.Require("debugfs", "e2fsprogs"), "-R", $"cat /sidus/{BootImageFixture.Image}/upper/var/lib/sidus/boot-count", overlayDisk);
        vm.Start();
        var second = lab.WaitUp(vm, 2);
        var secondSerial = vm.Serial;
        lab.Report(vm, output);
        output.WriteLine($"clean power-down: {cleanStop}; first: {first}; second: {second}; boot-count on the disk after boot 1: {onDisk.Trim()}");
        Assert.Equal("ext4:/dev/vdb", SharedBootLab.Fact(first, "upper"));
        Assert.StartsWith("erofs:/dev/nbd", SharedBootLab.Fact(first, "lower"), StringComparison.Ordinal);
        Assert.Equal("1", SharedBootLab.Fact(first, "boot"));
        Assert.Equal("2", SharedBootLab.Fact(second, "boot"));
        // debugfs prints the file on stdout, its banner on stderr (after it here).
        Assert.Contains(onDisk.Split('\n'), l => l.StartsWith("1 ", StringComparison.Ordinal));
        Assert.Contains("/dev/vdb is blank: formatting it as ext4", firstSerial, StringComparison.Ordinal);
        Assert.Contains($"reusing the upper layer of image {BootImageFixture.Image} on /dev/vdb", secondSerial, StringComparison.Ordinal);
        Assert.DoesNotContain("formatting", secondSerial, StringComparison.Ordinal);
        Assert.Equal(otherHash, Hash(other));
        Assert.Contains(lab.EventsOf(vm), e => e.Stage == "root" && e.Detail.EndsWith("overlay disk /dev/vdb (reused)", StringComparison.Ordinal));
    }

    [VmFact]
    public void SharedMode_TwoVmsSameExport_BothUp()
    {
        using var lab = new SharedBootLab(fixture);
        var a = lab.StartVm("snode3");
        var b = lab.StartVm("snode4");
        var upA = lab.WaitUp(a);
        var upB = lab.WaitUp(b);
        Assert.True(WaitMultiUser(a) && WaitMultiUser(b), "both VMs reach multi-user.target");
        lab.Report(a, output);
        lab.Report(b, output);
        output.WriteLine($"up: {a.Hostname} after {a.Clock.Elapsed.TotalSeconds:F1} s: {upA}; {b.Hostname}: {upB}");
        Assert.Contains("snode3", upA, StringComparison.Ordinal);
        Assert.Contains("snode4", upB, StringComparison.Ordinal);
        Assert.StartsWith("erofs:/dev/nbd", SharedBootLab.Fact(upA, "lower"), StringComparison.Ordinal);
        Assert.StartsWith("erofs:/dev/nbd", SharedBootLab.Fact(upB, "lower"), StringComparison.Ordinal);
    }

    [VmFact]
    public void SharedMode_OverlayDiskHoldsData_RefusedAndLeftUntouched()
    {
        using var lab = new SharedBootLab(fixture);
        var data = OtherDisk(lab, "data.raw", xfs: true);
        var before = Hash(data);
        var vm = lab.StartVm("snode5", "disk:/dev/vda", [data]);
        var refused = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains("XFS", StringComparison.Ordinal)), SharedBootLab.BootLimit);
        Thread.Sleep(TimeSpan.FromSeconds(5));
        lab.Report(vm, output);
        vm.PowerDown();
        Assert.True(refused, "no refusal reported; serial:\n" + SharedBootLab.Tail(vm.Serial));
        Assert.Contains("/dev/vda (sidus.overlay=disk:/dev/vda) holds an XFS filesystem", vm.Serial, StringComparison.Ordinal);
        Assert.DoesNotContain("switching to /sbin/init", vm.Serial, StringComparison.Ordinal);
        Assert.Equal(before, Hash(data));
    }

    [VmFact]
    public void SharedMode_ExportUnknownThenServerDown_AgentRetriesAndBootsWhenServed()
    {
        using var lab = new SharedBootLab(fixture, startNbd: false);
        lab.StartNbd("some-other-version");
        var vm = lab.StartVm("snode6");
        var unknown = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains("unknown export", StringComparison.Ordinal)), SharedBootLab.BootLimit);
        lab.StopNbd();
        var unreachable = DisklessBoot.WaitFor(() => lab.EventsOf(vm).Any(e => e.Stage == "failed" && e.Detail.Contains("cannot reach the NBD server", StringComparison.Ordinal)), TimeSpan.FromMinutes(2));
        lab.StartNbd(fixture.Version.ToString());
        var up = lab.WaitUp(vm, 1);
        lab.Report(vm, output);
        Assert.True(unknown, "no 'unknown export' failure reported");
        Assert.True(unreachable, "no 'cannot reach' failure reported");
        Assert.Contains($"the server refused export {fixture.Version}: unknown export", vm.Serial, StringComparison.Ordinal);
        Assert.Contains("retrying in", vm.Serial, StringComparison.Ordinal);
        Assert.StartsWith("erofs:/dev/nbd", SharedBootLab.Fact(up, "lower"), StringComparison.Ordinal);
    }

    private static bool WaitMultiUser(SharedVm vm) =>
        DisklessBoot.WaitFor(() => vm.Serial.Contains("Reached target multi-user.target", StringComparison.Ordinal), TimeSpan.FromSeconds(180));

    /// <summary>A 64 MiB disk with data at its start (random bytes, or an XFS superblock magic) that must never change.</summary>
    private static string OtherDisk(SharedBootLab lab, string name, bool xfs)
    {
        var path = Path.Combine(lab.Work, name);
        var start = new byte[1024 * 1024];
        new Random(name.Length).NextBytes(start);
        if (xfs)
        {
            "XFSB"u8.CopyTo(start);
        }

        using var f = File.Create(path);
        f.Write(start);
        f.SetLength(64L << 20);
        return path;
    }

    private static string Hash(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }
}
