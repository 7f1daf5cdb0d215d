using System.Text.RegularExpressions;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// A UEFI node in mode "local" (OVMF, network first) reaches what its disk holds: iPXE leaves with a failure status,
/// so the firmware goes on to the disk's removable-media loader (EFI/BOOT/BOOTX64.EFI on a GPT ESP) instead of
/// stopping in its boot menu (issue 9). The loader here is the image's own kernel (an EFI stub application); OVMF
/// says on the serial line which boot option it starts, and the disk is its only "Misc Device".
/// </summary>
public sealed class LocalBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const string Node = "local1";
    private const string Said = "booting from the local disk";
    /// <summary>OVMF's line when it starts the disk's boot option (virtio-blk is its only "Misc Device").</summary>
    private const string StartedDisk = "BdsDxe: starting Boot[0-9A-F]{4} \"UEFI Misc Device\"";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    [Fact]
    public void Uefi_LocalMode_FirmwareGoesOnToTheDisksLoader()
    {
        using var boot = new ServeBoot(fixture);
        var disk = EspDisk(boot.Work, fixture.Boot.KernelPath);
        var add = boot.Sidus("node", "add", Node, "--mac", boot.Mac, "--image", BootImageFixture.Image, "--mode", "local");
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
        boot.StartServe();
        boot.PowerOn(Firmware.Uefi, disk: disk);
        var reached = DisklessBoot.WaitFor(
            () => boot.Serial is var s && s.IndexOf(Said, StringComparison.Ordinal) is >= 0 and var at && Regex.IsMatch(s[at..], StartedDisk),
            Limit);
        output.WriteLine($"power-on to the disk's loader: {boot.Clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("serial (tail):\n" + ServeBoot.Tail(boot.Serial, 4000));
        Assert.True(reached, "the firmware did not go on to the disk after iPXE left:\n" + ServeBoot.Tail(boot.Serial, 6000));
        var serial = boot.Serial;
        var after = serial[serial.IndexOf(Said, StringComparison.Ordinal)..];
        output.WriteLine("the firmware's boot options after iPXE left:\n" + string.Join('\n', after.Split('\n').Where(l => l.Contains("BdsDxe", StringComparison.Ordinal))));
        Assert.Matches(StartedDisk, after);
    }

    /// <summary>A 64 MiB raw disk: GPT, one ESP (FAT) holding LOADER as the removable-media path.</summary>
    private static string EspDisk(string work, string loader)
    {
        Tool.Require("mkfs.vfat", "dosfstools");
        var esp = Path.Combine(work, "esp.img");
        var disk = Path.Combine(work, "disk.img");
        Tool.Run("mkfs.vfat", "-C", "-n", "ESP", esp, (48 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        // mtools writes into the FAT image without mounting it (no vfat driver needed on the host).
        Tool.Require("mcopy", "mtools");
        Tool.Run("mmd", "-i", esp, "::/EFI", "::/EFI/BOOT");
        Tool.Run("mcopy", "-i", esp, loader, "::/EFI/BOOT/BOOTX64.EFI");

        using (var f = File.Create(disk))
        {
            f.SetLength(64L << 20);
        }

        var table = Path.Combine(work, "table.sfdisk");
        File.WriteAllText(table, $"label: gpt\nstart=2048, size={48 * 1024 * 2}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP\n");
        Tool.Require("sfdisk", "fdisk");
        Tool.Run("sh", "-c", $"sfdisk --quiet '{disk}' < '{table}'");
        Tool.Run("dd", $"if={esp}", $"of={disk}", "bs=1M", "seek=1", "conv=notrunc", "status=none");
        return disk;
    }
}
