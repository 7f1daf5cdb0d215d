using Sidus.Agent.Modules;
using Sidus.Agent.Network;

namespace Sidus.Agent.Boot;

/// <summary>
/// The second half of ram mode from the export, run by the watcher in the booted system. Once the node has reported
/// "up" and systemd has finished starting the system (or after <see cref="UpWait"/> at the latest, so a node whose up
/// unit fails still detaches), it copies the export from its NBD device into a tmpfs at /run/sidus/ram, at the lowest
/// CPU priority so the running system comes first; then it loads the copy (through a read-only loop device) as the new table of the root's dm-verity device
/// and swaps it in: the root stays mounted, its I/O pauses for the swap only. Then NBD is disconnected and the node
/// needs nothing more from the server; a reboot forgets everything, as in any ram mode. dm-verity checks every block
/// read from the copy against the same root hash as before, so a bad copy can never be read as good data.
/// </summary>
internal static class RamCopy
{
    public const string Mount = "/run/sidus/ram";

    /// <summary>Written by "report up" once the server has the report: the sign that boot is over.</summary>
    public const string UpFile = "/run/sidus/up";

    private const int ChunkLength = 1 << 20;
    private const string PartialSuffix = ".partial";
    private static readonly TimeSpan UpWait = TimeSpan.FromMinutes(2);

    /// <summary>Copies and swaps; true when the root no longer reads from NBD. BEFOREDISCONNECT runs just before the
    /// connection is closed (the watcher must not take that for a dead link).</summary>
    public static bool Run(NbdState state, VerityInfo verity, EventReporter reporter, Action beforeDisconnect)
    {
        WaitForUp();
        var device = $"/dev/nbd{state.Index}";
        // Before anything is written to RAM: a copy that does not fit is not started (the watcher goes on as in
        // shared mode, and nothing is retried: the memory will not grow).
        var meminfo = File.ReadAllText("/proc/meminfo");
        if (RamBudget.Refusal(state.Size, UpCommand.MeminfoKib(meminfo, "MemAvailable"), UpCommand.MeminfoKib(meminfo, "MemTotal")) is { } refusal)
        {
            AgentConsole.Say($"{refusal}; {device} stays connected to {state.Server}, export {state.Export}");
            reporter.ReportAsync(NodeEventStages.Agent, refusal).GetAwaiter().GetResult();
            return false;
        }

        var clock = Stopwatch.StartNew();
        var copy = Path.Combine(Mount, "export");
        string? loop = null;
        var swapped = false;
        try
        {
            ThreadNice.Set(ThreadNice.Lowest);
            AgentConsole.Say($"ram mode: copying export {state.Export} ({state.Size / 1048576.0:F1} MiB) from {device} into {Mount}");
            Directory.CreateDirectory(Mount);
            if (!NodeFacts.ReadMounts().Any(m => m.Point == Mount))
            {
                Mounts.Mount("tmpfs", Mount, "tmpfs", Mounts.MS_NOSUID | Mounts.MS_NODEV, $"mode=0700,size={state.Size + ChunkLength}");
            }

            CopyDevice(device, copy, (long)state.Size);
            File.SetUnixFileMode(copy, UnixFileMode.UserRead);
            // From the image's own module tree (the same kernel): not loaded at boot, where it would only delay it.
            new ModuleLoader(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()).LoadByName("loop");
            using var backing = File.OpenHandle(copy, FileMode.Open, FileAccess.Read);
            loop = LoopDevice.Attach(backing);
            DeviceMapper.Load(VerityRoot.DeviceName, VerityRoot.Table(verity, loop), readOnly: true);
            DeviceMapper.Suspend(VerityRoot.DeviceName);
            DeviceMapper.Resume(VerityRoot.DeviceName);
            swapped = true;
            beforeDisconnect();
            NbdNetlink.Disconnect(state.Index);
            var after = File.ReadAllText("/proc/meminfo");
            var detail = $"ram: the root is in RAM ({state.Size / 1048576.0:F1} MiB copied in {clock.Elapsed.TotalSeconds:F1} s onto {loop}, " +
                         $"checked by dm-verity as it is read); {device} disconnected, the node no longer needs the server " +
                         $"(mem-used-kib={NodeFacts.MemoryUsedKiB(after)} shmem-kib={UpCommand.MeminfoKib(after, "Shmem")})";
            AgentConsole.Say(detail);
            reporter.ReportAsync(NodeEventStages.Agent, detail).GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is IOException or LinuxException or UnauthorizedAccessException)
        {
            var problem = swapped
                ? $"ram mode: the root is in RAM, but disconnecting {device} failed ({e.Message})"
                : $"ram mode: copying the root into RAM failed ({e.Message}); the node stays on the network export {state.Export}";
            AgentConsole.Fail(problem);
            reporter.ReportAsync(NodeEventStages.Failed, problem).GetAwaiter().GetResult();
            if (!swapped)
            {
                GiveBackMemory(copy, loop);
            }

            return false;
        }
    }

    /// <summary>After a failed copy: the loop device over it (when the failure came after attaching it), its files
    /// and the tmpfs go, so the memory is the running system's again.</summary>
    private static void GiveBackMemory(string copy, string? loop)
    {
        try
        {
            if (loop is not null)
            {
                LoopDevice.Detach(loop);
            }

            File.Delete(copy + PartialSuffix);
            File.Delete(copy);
            Mounts.Unmount(Mount);
        }
        catch (Exception e) when (e is IOException or LinuxException or UnauthorizedAccessException)
        {
            AgentConsole.Fail($"ram mode: {Mount} could not be released ({e.Message})");
        }
    }

    private static void WaitForUp()
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(UpFile) && clock.Elapsed < UpWait)
        {
            Thread.Sleep(500);
        }

        // "up" comes from a unit early in the boot; the copy's I/O should not slow the units still starting.
        var left = UpWait - clock.Elapsed;
        if (left > TimeSpan.Zero)
        {
            WaitForSystemStarted(left);
        }
    }

    /// <summary>`systemctl is-system-running --wait` returns once systemd has finished starting the system.</summary>
    private static void WaitForSystemStarted(TimeSpan limit)
    {
        try
        {
            ProcessRunner.Run("systemctl", ["is-system-running", "--wait"], "systemd", limit);
        }
        catch (TimeoutException)
        {
            // Still starting after the limit: copy anyway.
        }
        catch (ToolStartException e)
        {
            AgentConsole.Say($"ram mode: cannot ask systemd whether the boot is over ({e.Message}); copying now");
        }
    }

    /// <summary>LENGTH bytes of DEVICE into a new file at PATH (written beside it and renamed: never half a copy in place).</summary>
    private static void CopyDevice(string device, string path, long length)
    {
        var temporary = path + PartialSuffix;
        using (var source = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0))
        using (var target = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 0))
        {
            var buffer = new byte[ChunkLength];
            long done = 0;
            while (done < length)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, length - done));
                if (n == 0)
                {
                    throw new IOException($"{device} ended after {done} of {length} bytes");
                }

                target.Write(buffer, 0, n);
                done += n;
            }
        }

        AtomicFile.Commit(temporary, path);
    }
}
