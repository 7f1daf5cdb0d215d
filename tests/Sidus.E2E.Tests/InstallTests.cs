using System.Globalization;
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

    /// <summary>
    /// bios_grub, ESP, swap, root, and /data preserved: the disk already has the table up to /data and an ext4 there
    /// holding a file, as a node installed before would. 4 GiB: /data is the last 509 MiB.
    /// </summary>
    private const string PreservingLayout = """
        version: 1
        description: E2E, BIOS with swap and a kept /data
        items:
          - { id: d, type: disk, match: { first: true } }
          - { id: bios, type: partition, disk: d, size: 1MiB, flags: [bios_grub] }
          - { id: esp, type: partition, disk: d, size: 256MiB, flags: [esp] }
          - { id: swapp, type: partition, disk: d, size: 256MiB, flags: [swap] }
          - { id: rootp, type: partition, disk: d, size: 3GiB }
          - { id: datap, type: partition, disk: d, size: rest, preserve: true }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat }
          - { id: swap-fs, type: format, volume: swapp, fstype: swap }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4, label: root }
          - { id: data-fs, type: format, volume: datap, fstype: ext4, preserve: true }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-fs, path: /boot/efi }
          - { id: data, type: mount, device: data-fs, path: /data }
        """;

    private const long DataStartMiB = 1 + 1 + 256 + 256 + 3072;
    private const string KeptText = "kept across the install\n";

    [VmFact]
    public void Bios_InstallsWithALayout_KeepsThePreservedPartition_BootsLocally_AndWithoutTheServer() =>
        InstallAndBoot(Firmware.Bios, "inst-bios", alone: true, layout: PreservingLayout);

    [VmFact]
    public void Uefi_InstallsTheDefaultLayout_ServerKilledMidWrite_BootsItLocally() =>
        InstallAndBoot(Firmware.Uefi, "inst-uefi", alone: false, layout: null, killServe: true);

    /// <summary>The preserving layout's partitions (/data where the disk has it) with a root of 256 MiB: too small for the version.</summary>
    private const string TooSmallLayout = """
        version: 1
        description: E2E, a root too small for the version
        items:
          - { id: d, type: disk, match: { first: true } }
          - { id: bios, type: partition, disk: d, size: 1MiB, flags: [bios_grub] }
          - { id: esp, type: partition, disk: d, size: 256MiB, flags: [esp] }
          - { id: rootp, type: partition, disk: d, size: 256MiB }
          - { id: swapp, type: partition, disk: d, size: 3GiB, flags: [swap] }
          - { id: datap, type: partition, disk: d, size: rest, preserve: true }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: swap-fs, type: format, volume: swapp, fstype: swap }
          - { id: data-fs, type: format, volume: datap, fstype: ext4, preserve: true }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-fs, path: /boot/efi }
          - { id: data, type: mount, device: data-fs, path: /data }
        """;

    /// <summary>
    /// A layout whose root cannot hold the version: the server refuses the plan, the node says why on its console and
    /// in `sidus node status`, and its disk is as it was (the same table, /data with its file).
    /// </summary>
    [VmFact]
    public void Bios_RootTooSmallForTheVersion_RefusedBeforeTheDiskIsTouched()
    {
        var image = fixture.EnsureInstallImage() + "@2";
        var serial = RefusedBeforeTheDisk("inst-small", image, ("e2e-small", TooSmallLayout), $"layout e2e-small (revision 1): {image} puts ");
        Assert.Contains("on /, but filesystem 'root-fs' (ext4 on 'rootp', 256.0 MiB) has room for about ", serial, StringComparison.Ordinal);
    }

    /// <summary>
    /// A version one of whose files has its data damaged in the server's store (<see cref="BootImageFixture.EnsureDamagedImage"/>):
    /// the server reads the whole version before it answers the install plan, and refuses it naming the file; the node
    /// says so on its console and in `sidus node status` (stage error), and its disk is as it was (the same table,
    /// /data with its file). Found halfway through the write instead, the node's old root would already be formatted.
    /// </summary>
    [VmFact]
    public void Bios_ContentCorruptOnTheServer_RefusedBeforeTheDiskIsTouched()
    {
        var image = fixture.EnsureDamagedImage();
        RefusedBeforeTheDisk("inst-damaged", image, ("e2e-keep", PreservingLayout),
            $"{image} is damaged in the server's store: {BootImageFixture.DamagedFile} (content ");
    }

    /// <summary>
    /// Powers on NODE (BIOS; its disk has a GPT and the kept /data) to install IMAGE with LAYOUT, which the server must
    /// refuse with a reason holding EXPECTED: the node says it on its console and `sidus node status` shows it (stage
    /// error), the server logs the refusal, and once the VM is stopped the disk has the same table and /data its file.
    /// Returns the node's console.
    /// </summary>
    private string RefusedBeforeTheDisk(string node, string image, (string Name, string Yaml) layout, string expected)
    {
        using var boot = new ServeBoot(fixture);
        var disk = EmptyDisk(boot, "disk.img", DiskBytes);
        KeptPartition(boot.Work, disk);
        var table = Tool.Run("sfdisk", "--dump", disk);
        AddInstallingNode(boot, node, image, layout);
        boot.StartServe();
        boot.PowerOn(Firmware.Bios, disk: disk);
        var refused = DisklessBoot.WaitFor(() => boot.Serial.Contains("this node cannot boot", StringComparison.Ordinal), InstallLimit);
        output.WriteLine($"power-on to the refusal: {boot.Clock.Elapsed.TotalSeconds:F0} s");
        var serial = boot.Serial;
        output.WriteLine(string.Join('\n', serial.Split('\n').Where(l => l.Contains("sidus-agent", StringComparison.Ordinal))));
        Assert.True(refused, "the node never said why it cannot install:\n" + ServeBoot.Tail(serial, 6000) + "\nserve:\n" + ServeBoot.Tail(boot.ServeText, 3000));
        Assert.Contains("the server refused the install: " + expected, serial, StringComparison.Ordinal);
        var status = boot.Status(node)!.Value;
        var detail = status.GetProperty("detail").GetString();
        output.WriteLine($"status: {status.GetProperty("stage").GetString()}: {detail}");
        Assert.Equal("error", status.GetProperty("stage").GetString());
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.Contains(boot.ServeText.Split('\n'), l => l.Contains($"Install of {node} refused", StringComparison.Ordinal));
        boot.StopVm();

        Assert.Equal(table, Tool.Run("sfdisk", "--dump", disk));
        Assert.Contains(KeptText.Trim(), ReadKept(boot.Work, disk), StringComparison.Ordinal);
        return serial;
    }

    /// <summary>
    /// Two disks, each with a bios_grub partition, an ESP and a RAID member; md RAID 1 over them; LVM on the array
    /// with the root and swap as logical volumes. The node (BIOS) boots its root from LVM on the array, GRUB on both
    /// disks for both firmwares; then the second disk alone, under UEFI, with no server and no network, still boots
    /// (its own ESP, the array degraded, the first disk's ESP missing from fstab's view).
    /// </summary>
    private const string RaidLvmLayout = """
        version: 1
        description: E2E, root on LVM on md RAID 1 over two disks
        items:
          - { id: a, type: disk, match: { serial: E2EA } }
          - { id: b, type: disk, match: { serial: E2EB } }
          - { id: grub-a, type: partition, disk: a, size: 1MiB, flags: [bios_grub] }
          - { id: esp-a, type: partition, disk: a, size: 64MiB, flags: [esp] }
          - { id: member-a, type: partition, disk: a, size: rest, flags: [raid] }
          - { id: grub-b, type: partition, disk: b, size: 1MiB, flags: [bios_grub] }
          - { id: esp-b, type: partition, disk: b, size: 64MiB, flags: [esp] }
          - { id: member-b, type: partition, disk: b, size: rest, flags: [raid] }
          - { id: md, type: raid, name: system, level: 1, devices: [member-a, member-b] }
          - { id: vg, type: lvm_vg, name: vg0, devices: [md] }
          - { id: swap-lv, type: lvm_lv, vg: vg, name: swap, size: 128MiB }
          - { id: root-lv, type: lvm_lv, vg: vg, name: root, size: rest }
          - { id: swap-fs, type: format, volume: swap-lv, fstype: swap }
          - { id: root-fs, type: format, volume: root-lv, fstype: ext4 }
          - { id: esp-a-fs, type: format, volume: esp-a, fstype: vfat }
          - { id: esp-b-fs, type: format, volume: esp-b, fstype: vfat }
          - { id: root, type: mount, device: root-fs, path: / }
          - { id: efi, type: mount, device: esp-a-fs, path: /boot/efi }
        """;

    [VmFact]
    public void Bios_RootOnLvmOnRaid1OverTwoDisks_BootsLocally_AndFromTheSecondDiskAlone()
    {
        var image = fixture.EnsureRaidImage();
        const string node = "inst-raid";
        using var boot = new ServeBoot(fixture);
        var disks = new[] { "a", "b" }.Select(d => EmptyDisk(boot, $"disk-{d}.img", RaidDiskBytes)).ToArray();
        AddInstallingNode(boot, node, image, ("e2e-raid", RaidLvmLayout));
        boot.StartServe();
        boot.PowerOn(Firmware.Bios, disk: disks[0], reboot: true,
            devices: ["-drive", $"file={disks[1]},format=raw,if=none,id=disk1", "-device", "virtio-blk-pci,drive=disk1,serial=E2EB"], diskSerial: "E2EA");
        var (serial, root) = WaitUpFromDisk(boot, node, image);
        Assert.Contains("making raid1 'system' of /dev/vda3, /dev/vdb3", serial, StringComparison.Ordinal);
        Assert.Contains("GRUB: BIOS on /dev/vda; BIOS on /dev/vdb; UEFI on /dev/vda2 (EFI/BOOT/BOOTX64.EFI, firmware boot order untouched); UEFI on /dev/vdb2", serial, StringComparison.Ordinal);
        var local = serial[serial.LastIndexOf("booting from the local disk", StringComparison.Ordinal)..];
        Assert.Matches(@"md/raid1:md\d+: active with 2 out of 2 mirrors", local);
        Assert.Matches(@"^ext4:/dev/(dm-\d+|mapper/vg0-root)$", root);
        Assert.Matches(@"root=(/dev/mapper/vg0-root|UUID=[0-9a-f-]{36}) ", local);
        boot.StopVm();

        // The second disk alone under UEFI, no server, no network: GRUB from its own ESP's removable path, the array
        // started degraded. (BIOS GRUB on it is the line above; the BIOS install test boots a disk alone by BIOS.)
        var log = Path.Combine(boot.Work, "alone-b.log");
        var vars = Path.Combine(boot.Work, "alone-b-vars.fd");
        File.Copy(ServeBoot.OvmfVars, vars, overwrite: true);
        using var vm = new BackgroundProcess(Tool.Require("qemu-system-x86_64", "qemu-system-x86"),
            ["-accel", "tcg", "-m", "768", "-smp", DirectBootVm.Cpus, "-nographic", "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
             "-drive", $"if=pflash,format=raw,readonly=on,file={ServeBoot.OvmfCode}", "-drive", $"if=pflash,format=raw,file={vars}",
             "-drive", $"file={disks[1]},format=raw,if=virtio", "-serial", "file:" + log], log + ".qemu");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var login = DisklessBoot.WaitFor(() => SerialConsole.Read(log).Contains(" login:", StringComparison.Ordinal), AloneLimit);
        output.WriteLine($"the second disk alone (UEFI): power-on to the login prompt in {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(login, "the second disk did not boot alone:\n" + ServeBoot.Tail(SerialConsole.Read(log), 6000));
        Assert.Matches(@"md/raid1:md\d+: active with 1 out of 2 mirrors", SerialConsole.Read(log));
    }

    private const long RaidDiskBytes = 2L << 30;

    private void InstallAndBoot(Firmware firmware, string node, bool alone, string? layout, bool killServe = false)
    {
        var image = fixture.EnsureInstallImage() + "@2";
        using var boot = new ServeBoot(fixture);
        var disk = EmptyDisk(boot, "disk.img", DiskBytes);
        if (layout is not null)
        {
            KeptPartition(boot.Work, disk);
        }

        AddInstallingNode(boot, node, image, layout is null ? null : ("e2e-keep", layout));
        boot.StartServe();
        boot.PowerOn(firmware, disk: disk, reboot: true);
        if (killServe)
        {
            KillServeMidWrite(boot);
        }

        var (serialText, root) = WaitUpFromDisk(boot, node, image);
        Assert.StartsWith("ext4:", root, StringComparison.Ordinal);
        if (firmware == Firmware.Uefi)
        {
            // Told "local", iPXE leaves with a failure status and OVMF goes on to its next boot option, the disk's
            // removable-media loader (the disk is its only "Misc Device"), instead of stopping in its boot menu.
            var local = serialText[serialText.LastIndexOf("booting from the local disk", StringComparison.Ordinal)..];
            output.WriteLine("the firmware's boot options after iPXE left:\n" + string.Join('\n', local.Split('\n').Where(l => l.Contains("BdsDxe", StringComparison.Ordinal))));
            Assert.Matches("BdsDxe: starting Boot[0-9A-F]{4} \"UEFI Misc Device\"", local);
        }

        if (layout is not null)
        {
            Assert.Contains("datap 509 MiB on vda (preserved)", serialText, StringComparison.Ordinal);
        }

        if (!alone)
        {
            return;
        }

        UpdateWhileRunning(boot, node);
        boot.StopVm();
        var updated = Path.Combine(boot.Work, "root-after.img");
        Tool.Run("dd", $"if={disk}", $"of={updated}", "bs=1M", "skip=514", "count=3072", "conv=sparse", "status=none");

        // The VM was switched off, not shut down: its last changes may sit in the journal, which debugfs does not read.
        Tool.Run("sh", "-c", $"e2fsck -y -E journal_only '{updated}' >/dev/null 2>&1; true");
        Assert.Contains("updated", Tool.Run("debugfs", "-R", "cat /etc/e2e-updated", updated), StringComparison.Ordinal);
        Assert.Contains("File not found", Tool.Run("sh", "-c", $"debugfs -R 'stat /usr/share/doc/fdisk/copyright' '{updated}' 2>&1"), StringComparison.Ordinal);
        Assert.Contains(BootImageFixture.InstallImage + "@3", Tool.Run("debugfs", "-R", "cat /var/lib/sidus/version", updated), StringComparison.Ordinal);
        var differences = RootDifferences(boot, updated, BootImageFixture.InstallImage + "@3");
        output.WriteLine("rsync -naHAXc between @3 and the updated root (its excludes left out):\n" + differences);
        Assert.True(differences.Length == 0, "the updated root differs from @3 beyond its excludes:\n" + differences);
        File.Delete(updated);
        if (layout is not null)
        {
            Assert.Contains(KeptText.Trim(), ReadKept(boot.Work, disk), StringComparison.Ordinal);
        }

        var alonePath = Path.Combine(boot.Work, "alone.log");
        using var vm = new BackgroundProcess(Tool.Require("qemu-system-x86_64", "qemu-system-x86"),
            ["-accel", "tcg", "-m", "768", "-smp", DirectBootVm.Cpus, "-nographic", "-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none",
             "-drive", $"file={disk},format=raw,if=virtio", "-serial", "file:" + Path.Combine(boot.Work, "alone-serial.log")], alonePath);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var login = DisklessBoot.WaitFor(() => SerialConsole.Read(Path.Combine(boot.Work, "alone-serial.log")).Contains(" login:", StringComparison.Ordinal), AloneLimit);
        output.WriteLine($"no server, no network: power-on to the login prompt in {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(login, "the disk did not boot on its own:\n" + ServeBoot.Tail(SerialConsole.Read(Path.Combine(boot.Work, "alone-serial.log")), 6000));
    }

    /// <summary>
    /// Installed, rebooted, told "local" by the script, and up from its disk as IMAGE, reached systemd's target:
    /// the serial log and the "up" report's root.
    /// </summary>
    private (string Serial, string Root) WaitUpFromDisk(ServeBoot boot, string node, string image)
    {
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
        output.WriteLine("install lines:\n" + string.Join('\n', serialText.Split('\n').Where(l =>
            l.Contains("install", StringComparison.Ordinal) || l.Contains("GRUB", StringComparison.Ordinal) || l.Contains("raid", StringComparison.Ordinal) ||
            l.Contains("LVM", StringComparison.Ordinal) || l.Contains("logical volume", StringComparison.Ordinal))));
        Assert.True(up, "the node did not come up from its disk:\n" + ServeBoot.Tail(serialText, 8000) + "\nserve:\n" + ServeBoot.Tail(boot.ServeText, 3000));
        var root = status.GetProperty("up").GetProperty("root").GetString() ?? string.Empty;
        output.WriteLine($"up report root: {root}");
        Assert.Equal(image, status.GetProperty("installed").GetProperty("imageRef").GetString());
        Assert.Contains("Reached target", serialText[serialText.LastIndexOf("booting from the local disk", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Contains($"local disk (installed {image})", boot.ServeText, StringComparison.Ordinal);
        return (serialText, root);
    }

    /// <summary>
    /// The server dies (SIGKILL) while the node writes the version: the agent says so and tries again; the server
    /// started again, the install goes on from what was written (the rest of the test sees it finish and boot).
    /// </summary>
    private void KillServeMidWrite(ServeBoot boot)
    {
        Assert.True(DisklessBoot.WaitFor(() => boot.Serial.Contains("install: writing ", StringComparison.Ordinal), InstallLimit),
            "the install never started writing:\n" + ServeBoot.Tail(boot.Serial, 4000));
        Thread.Sleep(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain("install: wrote ", boot.Serial, StringComparison.Ordinal);
        boot.KillServe();
        var failed = DisklessBoot.WaitFor(() => boot.Serial.Contains("again in", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        output.WriteLine("after the kill:\n" + string.Join('\n', boot.Serial.Split('\n').Where(l => l.Contains("again in", StringComparison.Ordinal))));
        Assert.True(failed, "the agent did not notice the server gone:\n" + ServeBoot.Tail(boot.Serial, 4000));
        boot.StartServe();
    }

    /// <summary>
    /// `sidus node update --reboot` of the running installed node to @3 through its sidus-agent service: the change
    /// travels, the drift its first boot made (e2e-drift.service) is reported before it is overwritten, the node is
    /// recorded at @3, and, a kernel module having changed, it reboots (network boot, told "local") and comes up again.
    /// </summary>
    private void UpdateWhileRunning(ServeBoot boot, string node)
    {
        var target = BootImageFixture.InstallImage + "@3";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var mark = boot.Serial.Length;
        var run = boot.SidusWithin(TimeSpan.FromMinutes(5), "node", "update", node, "--to", target, "--reboot", "--json", "--wait", "240");
        output.WriteLine($"sidus node update in the VM: {clock.Elapsed.TotalSeconds:F1} s\n{run.Output}");
        Assert.True(run.Code == 0, run.Output + "\nserial:\n" + ServeBoot.Tail(boot.Serial, 4000));
        var outcome = JsonDocument.Parse(run.Output[run.Output.IndexOf('[', StringComparison.Ordinal)..]).RootElement[0];
        var result = outcome.GetProperty("result");
        Assert.Equal(target, result.GetProperty("ref").GetString());
        Assert.True(result.GetProperty("created").GetInt64() >= 1 && result.GetProperty("deleted").GetInt64() >= 1, run.Output);
        var drift = result.GetProperty("drift").EnumerateArray().Select(d => d.GetProperty("path").GetString()).ToList();
        Assert.Contains("/etc/issue.net", drift);
        Assert.Equal(target, boot.Status(node)!.Value.GetProperty("installed").GetProperty("imageRef").GetString());
        Assert.Contains("kernel modules changed", result.GetProperty("rebootReasons").EnumerateArray().Select(r => r.GetString()));
        Assert.True(result.GetProperty("rebooting").GetBoolean(), run.Output);

        var again = DisklessBoot.WaitFor(() =>
        {
            var after = boot.Serial[mark..];
            return after.Contains("booting from the local disk", StringComparison.Ordinal) && boot.Status(node)?.GetProperty("stage").GetString() == "up";
        }, InstallLimit);
        output.WriteLine($"update, reboot and up again: {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(again, "the node did not come up again after the update's reboot:\n" + ServeBoot.Tail(boot.Serial[mark..], 6000));
        Assert.Contains("rebooting into " + target, boot.ServeText, StringComparison.Ordinal);
    }

    /// <summary>
    /// What rsync (checksums, hard links, ACLs, xattrs) finds between a checkout of VERSION and the root filesystem
    /// IMAGE (mounted read-only on a loop device), leaving out what the node's last update excluded (its record in
    /// /var/lib/sidus/sync.excludes: the defaults and the override layer's paths), the node's own state and the
    /// layout's other mount points. Directory times are not compared: a running system's files move them.
    /// </summary>
    private static string RootDifferences(ServeBoot boot, string image, string version)
    {
        var reference = Path.Combine(boot.Work, "reference");
        var checkout = boot.SidusWithin(TimeSpan.FromMinutes(5), "image", "checkout", version, reference, "-q");
        Assert.True(checkout.Code == 0, checkout.Output);
        var mount = Path.Combine(boot.Work, "root-mount");
        Directory.CreateDirectory(mount);
        Tool.Run("mount", "-o", "loop,ro", image, mount);
        try
        {
            // mkfs.ext4's own directory: the image has none, and neither the install nor an update may remove it.
            Assert.True(Directory.Exists(Path.Combine(mount, "lost+found")), "the installed root's /lost+found (made by mkfs.ext4) is gone");
            var excludes = File.ReadAllLines(Path.Combine(mount, "var/lib/sidus/sync.excludes")).Where(l => l.Length > 0)
                .Concat(["/var/lib/sidus", "/lost+found", "/data", "/boot/efi"]);
            // A directory the image lacks that holds only excluded files (the override layer's unit links, the
            // node's host keys) is one rsync "cannot delete": anything else in it would be listed for deletion.
            var run = Tool.Run(TimeSpan.FromMinutes(5), Tool.Require("rsync", "rsync"),
                ["-naHAXc", "--delete", "--omit-dir-times", "-i", .. excludes.Select(e => "--exclude=" + e), reference + "/", mount + "/"]);
            return string.Join('\n', run.Split('\n').Where(l => l.Trim().Length > 0 && !l.StartsWith("cannot delete non-empty directory: ", StringComparison.Ordinal)));
        }
        finally
        {
            Tool.Run("umount", mount);
            Directory.Delete(reference, recursive: true);
        }
    }

    /// <summary>A new sparse raw disk of BYTES in the boot's work directory.</summary>
    private static string EmptyDisk(ServeBoot boot, string name, long bytes)
    {
        var disk = Path.Combine(boot.Work, name);
        using var f = File.Create(disk);
        f.SetLength(bytes);
        return disk;
    }

    /// <summary>Adds NODE in mode install with IMAGE, a serial console, and LAYOUT (stored under its name) when given.</summary>
    private static void AddInstallingNode(ServeBoot boot, string node, string image, (string Name, string Yaml)? layout)
    {
        List<string> settings = ["node", "add", node, "--mac", boot.Mac, "--image", image, "--mode", "install", "--kernel-args", "console=ttyS0,115200"];
        if (layout is var (name, yaml))
        {
            var file = Path.Combine(boot.Work, "layout.yaml");
            File.WriteAllText(file, yaml);
            var set = boot.Sidus("layout", "set", name, file);
            Assert.True(set.Code == 0, "sidus layout set failed: " + set.Output);
            settings.AddRange(["--layout", name]);
        }

        var add = boot.Sidus([.. settings]);
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
    }

    /// <summary>The disk as a node installed before would have it: the layout's table, and /data's ext4 holding keep.txt.</summary>
    private static void KeptPartition(string work, string disk)
    {
        var seed = Path.Combine(work, "data-seed");
        Directory.CreateDirectory(seed);
        File.WriteAllText(Path.Combine(seed, "keep.txt"), KeptText);
        var data = Path.Combine(work, "data.img");
        var dataMiB = DiskBytes / (1 << 20) - 1 - DataStartMiB;
        Tool.Require("mkfs.ext4", "e2fsprogs");
        Tool.Run("mkfs.ext4", "-q", "-F", "-d", seed, data, dataMiB.ToString(CultureInfo.InvariantCulture) + "M");
        var table = Path.Combine(work, "table.sfdisk");
        static string Sectors(long mib) => (mib * 2048).ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(table, "label: gpt\n" +
            $"start={Sectors(1)}, size={Sectors(1)}\nstart={Sectors(2)}, size={Sectors(256)}\nstart={Sectors(258)}, size={Sectors(256)}\n" +
            $"start={Sectors(514)}, size={Sectors(3072)}\nstart={Sectors(DataStartMiB)}, size={Sectors(dataMiB)}\n");
        Tool.Require("sfdisk", "fdisk");
        Tool.Run("sh", "-c", $"sfdisk --quiet '{disk}' < '{table}'");
        Tool.Run("dd", $"if={data}", $"of={disk}", "bs=1M", $"seek={DataStartMiB}", "conv=notrunc,sparse", "status=none");
    }

    /// <summary>keep.txt of the disk's /data partition, read with debugfs (nothing mounted on the host).</summary>
    private static string ReadKept(string work, string disk)
    {
        var data = Path.Combine(work, "data-after.img");
        Tool.Run("dd", $"if={disk}", $"of={data}", "bs=1M", $"skip={DataStartMiB}", "status=none");
        return Tool.Run("debugfs", "-R", "cat /keep.txt", data);
    }
}
