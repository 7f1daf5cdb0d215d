using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Sidus.E2E.Tests.Support;

/// <summary>The firmware a VM starts with.</summary>
internal enum Firmware
{
    /// <summary>SeaBIOS with QEMU's default ROM for virtio-net (iPXE, the BIOS image in <c>efi-virtio.rom</c>).</summary>
    Bios,

    /// <summary>OVMF with iPXE's ROM for virtio-net (the EFI driver in <c>efi-virtio.rom</c>).</summary>
    Uefi,
}

/// <summary>
/// One boot against the real `sidus serve` binary: a private namespace (bridge + tap), a per-test inventory database
/// over the fixture's shared store, `sidus serve` with Sidus's DHCP in full mode on the bridge, and a QEMU VM (tcg, no
/// disk, virtio-net on the tap) that network-boots through its iPXE ROM. Everything is removed on dispose.
/// </summary>
internal sealed class ServeBoot : IDisposable
{
    public const string Pool = "10.77.0.100-10.77.0.150";
    /// <summary>iPXE for virtio-net from Debian's ipxe-qemu (BIOS and EFI images in one file), QEMU's default ROM
    /// for the device. SeaBIOS 1.16 here runs it only as the default: named with romfile= it never tries the network.
    /// OVMF runs it named, as the UEFI test does.</summary>
    public const string IpxeRom = "/usr/lib/ipxe/qemu/efi-virtio.rom";
    public const string OvmfCode = "/usr/share/OVMF/OVMF_CODE.fd";
    public const string OvmfVars = "/usr/share/OVMF/OVMF_VARS.fd";

    private readonly BootImageFixture _fixture;
    private readonly OwnedResources _owned = new();
    private BackgroundProcess? _vm;
    private BackgroundProcess? _serve;

    public ServeBoot(BootImageFixture fixture)
    {
        _fixture = fixture;
        Work = TestWorkDirectory.Create("sidus-e2e-serve-");
        Mac = DirectBootVm.RandomMac();
        SerialLog = Path.Combine(Work, "serial.log");
        ServeLog = Path.Combine(Work, "serve.log");
        try
        {
            Namespace = Own(new NetworkNamespace());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Work { get; }
    public string Mac { get; }
    public string SerialLog { get; }
    public string ServeLog { get; }
    public NetworkNamespace Namespace { get; } = null!;
    public string Database => Path.Combine(Work, "inventory.db");

    /// <summary>Started at the VM's power-on.</summary>
    public Stopwatch Clock { get; private set; } = new();

    private static string SidusDll => Path.Combine(AppContext.BaseDirectory, "sidus.dll");

    /// <summary>The serial console so far, colour escapes removed (systemd colours its status lines).</summary>
    public string Serial => SerialConsole.Read(SerialLog);

    /// <summary>`sidus serve`'s output so far.</summary>
    public string ServeText => SerialConsole.ReadGrowing(ServeLog);

    /// <summary>Runs the real `sidus` with the fixture's home and this boot's inventory; returns exit code and output.</summary>
    public (int Code, string Output) Sidus(params string[] arguments) => SidusWithin(TimeSpan.FromSeconds(60), arguments);

    /// <summary><see cref="Sidus"/> for a command that may take up to LIMIT (an update waiting on a VM).</summary>
    public (int Code, string Output) SidusWithin(TimeSpan limit, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[SidusDll, "--home", _fixture.Home, .. arguments])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["SIDUS_DB"] = Database;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Starts `sidus serve` in the namespace (DHCP full on the bridge) and waits until HTTP listens.
    /// <paramref name="config"/> is serve.toml text, or null for none.</summary>
    public void StartServe(string? config = null)
    {
        List<string> arguments = ["netns", "exec", Namespace.Name, "env", "SIDUS_DB=" + Database, "dotnet", SidusDll, "--home", _fixture.Home, "serve"];
        if (config is not null)
        {
            var path = Path.Combine(Work, "serve.toml");
            File.WriteAllText(path, config);
            arguments.AddRange(["--config", path]);
        }

        arguments.AddRange(["--interface", "br0", "--dhcp", "full", "--pool", Pool, "--agent", _fixture.AgentPath]);
        _serve = Own(new BackgroundProcess("ip", arguments, ServeLog));
        if (!DisklessBoot.WaitFor(() => ServeText.Contains("HTTP listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))
        {
            throw new InvalidOperationException("sidus serve did not start:\n" + ServeText);
        }
    }

    /// <summary>Kills `sidus serve` (SIGKILL, as a crash would); <see cref="StartServe"/> starts it again.</summary>
    public void KillServe()
    {
        _serve?.Dispose();
        _serve = null;
    }

    /// <summary>The VM's RAM unless a test asks for another size: room for a ram node's copy of the export.</summary>
    public const int DefaultMemoryMiB = 1536;

    /// <summary>Powers the VM on with MEMORYMIB of RAM: network boot only, no disk. The firmware's own console goes to
    /// the serial log too (SeaBIOS and OVMF copy the screen there with -nographic), so iPXE's messages can be read.</summary>
    /// <summary>Powers the VM on: network first; <paramref name="disk"/> (a raw image) as its virtio disk when given.</summary>
    /// <param name="reboot">Let a reboot restart the VM (an installed node reboots into its disk); else QEMU exits.</param>
    /// <param name="devices">More QEMU arguments (a control port: <see cref="VmControlPort.QemuArguments"/>).</param>
    public void PowerOn(Firmware firmware, int memoryMiB = DefaultMemoryMiB, string? disk = null, bool reboot = false, IReadOnlyList<string>? devices = null,
        string? diskSerial = null)
    {
        var qemu = Tool.Require("qemu-system-x86_64", "qemu-system-x86");
        if (!File.Exists(IpxeRom))
        {
            throw new InvalidOperationException($"{IpxeRom} is missing: apt-get install ipxe-qemu");
        }

        List<string> arguments =
        [
            "netns", "exec", Namespace.Name, qemu, "-accel", "tcg", "-m", memoryMiB.ToString(CultureInfo.InvariantCulture), "-smp", DirectBootVm.Cpus, "-nographic", "-display", "none",
            "-monitor", "none", .. (reboot ? Array.Empty<string>() : ["-no-reboot"]), "-boot", "n", "-netdev", $"tap,id=n0,ifname={Namespace.Tap},script=no,downscript=no",
            "-device", $"virtio-net-pci,netdev=n0,mac={Mac}" + (firmware == Firmware.Uefi ? ",romfile=" + IpxeRom : string.Empty) + (disk is null ? string.Empty : ",bootindex=1"),
            "-device", "virtio-rng-pci", "-serial", "file:" + SerialLog,
        ];
        if (disk is not null)
        {
            // Network first, then the disk, as a node is set up: OVMF orders boot options by bootindex, not -boot.
            arguments.AddRange(["-drive", $"file={disk},format=raw,if=none,id=disk0", "-device", "virtio-blk-pci,drive=disk0,bootindex=2" + (diskSerial is null ? string.Empty : ",serial=" + diskSerial)]);
        }

        arguments.AddRange(devices ?? []);
        if (firmware == Firmware.Uefi)
        {
            if (!File.Exists(OvmfCode) || !File.Exists(OvmfVars))
            {
                throw new InvalidOperationException($"{OvmfCode} is missing: apt-get install ovmf");
            }

            // The variable store is written by the firmware: each VM gets its own copy.
            var vars = Path.Combine(Work, "OVMF_VARS.fd");
            File.Copy(OvmfVars, vars, overwrite: true);
            arguments.AddRange(["-drive", $"if=pflash,format=raw,readonly=on,file={OvmfCode}", "-drive", $"if=pflash,format=raw,file={vars}"]);
        }

        Clock = Stopwatch.StartNew();
        _vm = Own(new BackgroundProcess("ip", arguments, Path.Combine(Work, "qemu.log")));
    }

    /// <summary>Powers the VM off (QEMU killed): its disk is free for another VM.</summary>
    public void StopVm()
    {
        _vm?.Dispose();
        _vm = null;
    }

    /// <summary>The node's `sidus node status --json` entry, or null when it has none yet.</summary>
    public JsonElement? Status(string node)
    {
        var r = Sidus("node", "status", node, "--json");
        if (r.Code != 0)
        {
            return null;
        }

        var list = JsonDocument.Parse(r.Output).RootElement;
        return list.GetArrayLength() == 0 ? null : list[0].Clone();
    }

    /// <summary>Waits until the node's status stage is <paramref name="stage"/>; returns the last status seen.</summary>
    public (bool Reached, JsonElement Status) WaitForStage(string node, string stage, TimeSpan limit)
    {
        JsonElement last = default;
        var reached = DisklessBoot.WaitFor(() =>
        {
            if (Status(node) is not { } status)
            {
                return false;
            }

            last = status;
            return status.GetProperty("stage").GetString() == stage;
        }, limit);
        return (reached, last);
    }

    /// <summary>The stages of a status entry with their offsets from the boot's start.</summary>
    public static IReadOnlyList<(string Stage, long Ms)> Stages(JsonElement status) =>
        [.. status.GetProperty("stages").EnumerateArray().Select(s => (s.GetProperty("stage").GetString()!, s.GetProperty("sinceStartMs").GetInt64()))];

    public static string Tail(string text, int length) => text.Length > length ? text[^length..] : text;


    private T Own<T>(T item) where T : IDisposable => _owned.Own(item);

    public void Dispose()
    {
        // Processes first (newest first), then the namespace, then the files; the first failure is reported after.
        var failures = _owned.ReleaseAll();
        TestWorkDirectory.Remove(Work, failures);

        if (failures.Count > 0)
        {
            throw new AggregateException("cleaning up the serve boot", failures);
        }
    }
}
