using Sidus.Agent.Modules;
using Sidus.Agent.Network;

namespace Sidus.Agent.Boot;

/// <summary>
/// Shared mode's root: the image version's EROFS export over NBD, read-only at /run/sidus/lower, under an overlay
/// whose upper layer is tmpfs (sidus.overlay=tmpfs, every change forgotten at reboot) or an ext4 filesystem on a
/// local disk (sidus.overlay=disk:/dev/X, kept per image name across reboots), mounted on the new root.
/// Everything lives under /run, which switch_root moves into the booted system, so the lower and upper mounts stay
/// reachable there (/run/sidus/...) and nothing of the initramfs is needed after the switch: the kernel's nbd
/// driver owns the socket. At shutdown systemd fails to unmount /run/sidus/* ("busy": the root sits on them) and
/// moves on; systemd-shutdown then remounts them read-only, which flushes an ext4 upper layer. No unit in the image
/// stops the NBD device, so the root never loses its export while the system runs.
/// </summary>
internal static class SharedRoot
{
    public const string Lower = "/run/sidus/lower";
    public const string TmpfsUpper = "/run/sidus/rw";
    private const ulong BlockSize = 4096;

    /// <summary>0: a request never times out (the root is on this device; a slow server must not turn into EIO).</summary>
    private const ulong RequestTimeoutSeconds = 0;

    /// <summary>How long I/O waits for a reconnection once the connection dies, before failing.</summary>
    private const ulong DeadConnectionSeconds = 3600;

    private static readonly TimeSpan DeviceWait = TimeSpan.FromSeconds(15);

    /// <summary>Sockets handed to the kernel: kept referenced so no finalizer closes them before switch_root.</summary>
    private static readonly List<Socket> Handed = [];

    /// <summary>Why the kernel command line cannot give a shared root, or null when it can.</summary>
    public static string? Check(AgentKernelArguments line)
    {
        if (line.Nbd is null || ParseServer(line.Nbd) is null)
        {
            return $"{AgentKernelArguments.Names.Mode}=shared needs {AgentKernelArguments.Names.Nbd}=IP:PORT (the NBD server of sidus serve)";
        }

        return OverlayDisk.ParseOverlay(line.OverlayOrDefault, out _) ? null : $"{AgentKernelArguments.Names.Overlay}={line.OverlayOrDefault} is neither 'tmpfs' nor 'disk:/dev/NAME'";
    }

    /// <summary>
    /// Builds the overlay root on NEWROOT; returns what the console and the server are told. Ram mode from the export
    /// (<see cref="AgentKernelArguments.RamFromExport"/>) is built the same way with a tmpfs upper layer; the watcher
    /// copies the export into RAM once the node is up (<see cref="RamCopy"/>).
    /// </summary>
    public static async Task<string> AssembleAsync(AgentKernelArguments line, ModuleLoader modules, EventReporter reporter, string newRoot)
    {
        var ram = line.RamFromExport;
        string? disk = null;
        if (!ram)
        {
            OverlayDisk.ParseOverlay(line.OverlayOrDefault, out disk);
        }

        var verity = line.Verity;
        LoadModules(modules, disk is not null, verity is not null);
        var server = ParseServer(line.Nbd!)!;
        var export = line.ExportOrImage!;
        var (device, size) = await AttachAsync(server, export, reporter);
        NbdWatchUnit.Install("/run", Overrides.AgentCopy);
        var lowerDevice = device;
        if (verity is not null)
        {
            try
            {
                lowerDevice = await VerityRoot.MapAsync(VerityRoot.DeviceName, verity, device);
            }
            catch (LinuxException e)
            {
                throw new UnbootableException($"the kernel refused the dm-verity table over {device} ({e.Message}); does the export carry its hash tree?");
            }

            AgentConsole.Say($"{lowerDevice}: dm-verity over {device}, root hash {Convert.ToHexStringLower(verity.RootHash)[..16]}..., every block checked as it is read");
        }

        Directory.CreateDirectory(Lower);
        try
        {
            Mounts.Mount(lowerDevice, Lower, "erofs", Mounts.MS_RDONLY);
        }
        catch (LinuxException e) when (verity is not null && e.Errno == Errno.EIO)
        {
            throw new UnbootableException(
                $"REFUSED: export {export} fails verification against root hash {Convert.ToHexStringLower(verity.RootHash)} ({e.Message}): the server's copy is corrupt " +
                "(the kernel log names the block); this node will not boot from it");
        }
        catch (LinuxException e)
        {
            throw new UnbootableException($"export {export} on {lowerDevice} does not mount as EROFS ({e.Message}); is it an EROFS image of the version?");
        }

        string upper, work, overlay;
        if (disk is null)
        {
            Directory.CreateDirectory(TmpfsUpper);
            Mounts.Mount("tmpfs", TmpfsUpper, "tmpfs", Mounts.MS_NOSUID | Mounts.MS_NODEV, $"mode=0755,size={line.RootSizeOrDefault}");
            (upper, work, overlay) = (TmpfsUpper + "/upper", TmpfsUpper + "/work", "tmpfs");
            Directory.CreateDirectory(upper);
            Directory.CreateDirectory(work);
        }
        else
        {
            var layer = await OverlayDisk.PrepareAsync(disk, line.ImageName ?? line.Image!, reporter);
            (upper, work, overlay) = (layer.Upper, layer.Work, $"disk {disk} ({layer.How})");
        }

        Mounts.Mount("overlay", newRoot, "overlay", 0, $"lowerdir={Lower},upperdir={upper},workdir={work}");
        AgentConsole.Say($"overlay on {newRoot}: lower {lowerDevice} (EROFS, read-only), upper {upper}");
        var verified = verity is null ? string.Empty : ", verified by dm-verity";
        return ram
            ? $"ram, export {export} {size / 1048576.0:F1} MiB on {lowerDevice}{verified}, copied into RAM once up, overlay {overlay}"
            : $"shared, export {export} {size / 1048576.0:F1} MiB on {lowerDevice}{verified}, overlay {overlay}";
    }

    public static IPEndPoint? ParseServer(string text)
    {
        if (!IPEndPoint.TryParse(text, out var endpoint))
        {
            return null;
        }

        return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, NbdClient.DefaultPort) : endpoint;
    }

    private static void LoadModules(ModuleLoader modules, bool disk, bool verity)
    {
        List<string> names = ["nbd", "erofs", "overlay"];
        names.AddRange(disk ? ["crc32c_generic", "ext4"] : []);
        names.AddRange(verity ? ["dm_mod", "dm_verity"] : []);
        foreach (var name in names)
        {
            modules.LoadByName(name);
        }

        if (!Directory.Exists("/sys/module/nbd"))
        {
            throw new UnbootableException("the kernel has no nbd driver (neither built in nor in the initramfs)");
        }

        if (verity && !File.ReadAllText("/proc/devices").Contains("device-mapper", StringComparison.Ordinal))
        {
            throw new UnbootableException("the kernel has no device-mapper (dm_mod, dm_verity: neither built in nor in the initramfs)");
        }

        var filesystems = File.ReadAllLines("/proc/filesystems")
            .Select(l => l.Split('\t', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var fs in disk ? new[] { "erofs", "overlay", "ext4" } : ["erofs", "overlay"])
        {
            if (!filesystems.Contains(fs))
            {
                throw new UnbootableException($"the kernel has no {fs} filesystem (neither built in nor in the initramfs)");
            }
        }
    }

    /// <summary>Negotiates the export and gives it to the kernel; retries with backoff until it works.</summary>
    private static async Task<(string Device, ulong Size)> AttachAsync(IPEndPoint server, string export, EventReporter reporter)
    {
        var backoff = new Backoff(2, 30);
        while (true)
        {
            string problem;
            try
            {
                var nbd = await NbdClient.ConnectAsync(server, AgentSession.NbdName(export), CancellationToken.None);
                AgentConsole.Say($"NBD {server}: export {export} is {nbd.Size} bytes, flags 0x{(ushort)nbd.Flags:x4}; handing the connection to the kernel");
                try
                {
                    var index = NbdNetlink.Connect(new NbdConnectRequest(null, nbd.Size, BlockSize, RequestTimeoutSeconds,
                        DeadConnectionSeconds, (ushort)nbd.Flags, (int)nbd.Socket.SafeHandle.DangerousGetHandle()));
                    Handed.Add(nbd.Socket);
                    new NbdState(index, server, export, nbd.Size, ((IPEndPoint)nbd.Socket.LocalEndPoint!).Port, reporter.Mac ?? string.Empty).Write();
                    var device = "/dev/nbd" + index.ToString(CultureInfo.InvariantCulture);
                    await WaitForDeviceAsync(device, index, nbd.Size);
                    AgentConsole.Say($"{device} is export {export} ({nbd.Size / 1048576.0:F1} MiB, read-only)");
                    return (device, nbd.Size);
                }
                catch (LinuxException e)
                {
                    nbd.Socket.Dispose();
                    problem = $"the kernel refused the NBD connection: {e.Message}";
                }
            }
            catch (NbdRefusedException e)
            {
                problem = $"NBD server {server}: {e.Message}; is the version exported by sidus serve?";
            }
            catch (NbdProtocolException e)
            {
                problem = $"NBD server {server} broke the protocol: {e.Message}";
            }
            catch (SocketException e)
            {
                problem = $"cannot reach the NBD server {server}: {e.Message}";
            }
            catch (IOException e)
            {
                problem = $"NBD server {server}: {e.Message}";
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"{problem}; retrying in {wait.TotalSeconds:F0} s");
            await reporter.ReportAsync(NodeEventStages.Failed, problem);
            await Task.Delay(wait);
        }
    }

    /// <summary>The device node exists and the block layer shows the export's size (it is set asynchronously).</summary>
    private static async Task WaitForDeviceAsync(string device, int index, ulong size)
    {
        var sizeFile = $"/sys/block/nbd{index.ToString(CultureInfo.InvariantCulture)}/size";
        var expected = (size / 512).ToString(CultureInfo.InvariantCulture);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < DeviceWait)
        {
            if (File.Exists(device) && File.Exists(sizeFile) && File.ReadAllText(sizeFile).Trim() == expected)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new UnbootableException($"{device} did not appear with {size} bytes within {DeviceWait.TotalSeconds:F0} s after NBD_CMD_CONNECT");
    }
}
