using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// Installed nodes (issue 9): a VM with an empty virtio disk, in mode install, network-boots the Sidus agent through
/// `sidus serve`, which partitions and formats the disk with the image's own tools, writes the version with the sync
/// engine, installs GRUB and reboots; the network boot then tells it "local" and it comes up from its disk to
/// systemd's multi-user target, reporting "up" from an ext4 root. A second VM with no network at all boots the
/// same disk. Both firmwares: SeaBIOS (GRUB i386-pc in the bios_grub partition) and OVMF (EFI/BOOT/BOOTX64.EFI,
/// NVRAM untouched).
/// </summary>
public sealed class InstallTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(12);
    private static readonly TimeSpan AloneLimit = TimeSpan.FromMinutes(5);
    private const long DiskBytes = 4L << 30;

    [Fact]
    public void Bios_InstallsToTheDisk_BootsItLocally_AndWithoutTheServer() => InstallAndBoot(Firmware.Bios, "inst-bios", alone: true);

    [Fact]
    public void Uefi_InstallsToTheDisk_BootsItLocally() => InstallAndBoot(Firmware.Uefi, "inst-uefi", alone: false);

    private void InstallAndBoot(Firmware firmware, string node, bool alone)
    {
        var image = fixture.EnsureInstallImage();
        using var boot = new ServeBoot(fixture);
        var disk = Path.Combine(boot.Work, "disk.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(DiskBytes);
        }

        var add = boot.Sidus("node", "add", node, "--mac", boot.Mac, "--image", image, "--mode", "install", "--kernel-args", "console=ttyS0,115200");
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
        boot.StartServe();
        boot.PowerOn(firmware, disk: disk, reboot: true);

        // Installed, rebooted, told "local" by the script, and up from its disk: the "up" report's root is ext4.
        JsonElement status = default;
        var up = DisklessBoot.WaitFor(() =>
        {
            var serial = boot.Serial;
            var installed = serial.IndexOf("rebooting into the disk", StringComparison.Ordinal);
            if (installed < 0 || serial.IndexOf("booting from the local disk", installed, StringComparison.Ordinal) < 0 || boot.Status(node) is not { } s)
            {
                return false;
            }

            status = s;
            return s.GetProperty("stage").GetString() == "up";
        }, InstallLimit);
        var serialText = boot.Serial;
        output.WriteLine($"power-on to up from the disk: {boot.Clock.Elapsed.TotalSeconds:F0} s");
        output.WriteLine("install lines:\n" + string.Join('\n', serialText.Split('\n').Where(l => l.Contains("install", StringComparison.Ordinal) || l.Contains("GRUB", StringComparison.Ordinal))));
        Assert.True(up, "the node did not come up from its disk:\n" + ServeBoot.Tail(serialText, 8000) + "\nserve:\n" + ServeBoot.Tail(boot.ServeText, 3000));
        var root = status.GetProperty("up").GetProperty("root").GetString();
        output.WriteLine($"up report root: {root}");
        Assert.StartsWith("ext4:", root, StringComparison.Ordinal);
        var installedAs = status.GetProperty("installed");
        Assert.StartsWith(image + "@", installedAs.GetProperty("imageRef").GetString(), StringComparison.Ordinal);
        Assert.Contains("Reached target", serialText[serialText.LastIndexOf("booting from the local disk", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Contains($"local disk (installed {image}@", boot.ServeText, StringComparison.Ordinal);
        if (!alone)
        {
            return;
        }

        boot.StopVm();
        var alonePath = Path.Combine(boot.Work, "alone.log");
        using var vm = new BackgroundProcess(Tool.Require("qemu-system-x86_64", "qemu-system-x86"),
            ["-accel", "tcg", "-m", "768", "-smp", "2", "-nographic", "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
             "-drive", $"file={disk},format=raw,if=virtio", "-serial", "file:" + Path.Combine(boot.Work, "alone-serial.log")], alonePath);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var login = DisklessBoot.WaitFor(() => Read(Path.Combine(boot.Work, "alone-serial.log")).Contains(" login:", StringComparison.Ordinal), AloneLimit);
        output.WriteLine($"no server, no network: power-on to the login prompt in {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(login, "the disk did not boot on its own:\n" + ServeBoot.Tail(Read(Path.Combine(boot.Work, "alone-serial.log")), 6000));
    }

    private static string Read(string path)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}
