using System.Globalization;

namespace Sidus.Agent.Boot;

/// <summary>
/// What the booted system says about itself with "up": how its root is made (the mounts of /, /run/sidus/lower and
/// the upper layer's filesystem, from /proc/self/mountinfo), how many times this root has booted (a counter kept in
/// the root itself, so it grows only where the root persists: a shared node with a disk overlay), and the memory in
/// use (MemTotal - MemAvailable). Each fact is key=value, so the status view and the tests read the same text.
/// </summary>
internal static class NodeFacts
{
    public const string BootCountPath = "/var/lib/sidus/boot-count";

    public static string Describe()
    {
        var mounts = ReadMounts();
        var facts = new List<string>();
        if (mounts.LastOrDefault(m => m.Point == "/") is { Point: not null } root)
        {
            facts.Add($"root={root.Type}:{root.Source}");
        }

        if (mounts.LastOrDefault(m => m.Point == SharedRoot.Lower) is { Point: not null } lower)
        {
            facts.Add($"lower={lower.Type}:{lower.Source}");
        }

        if (mounts.LastOrDefault(m => m.Point == OverlayDisk.Mount) is { Point: not null } disk)
        {
            facts.Add($"upper={disk.Type}:{disk.Source}");
        }
        else if (mounts.LastOrDefault(m => m.Point == SharedRoot.TmpfsUpper) is { Point: not null } tmpfs)
        {
            facts.Add($"upper={tmpfs.Type}");
        }

        facts.Add("boot=" + CountBoot().ToString(CultureInfo.InvariantCulture));
        if (MemoryUsedKiB(File.ReadAllText("/proc/meminfo")) is { } used)
        {
            facts.Add($"mem-used-kib={used.ToString(CultureInfo.InvariantCulture)}");
        }

        return string.Join(' ', facts);
    }

    /// <summary>Adds this boot to the counter in the root (once per boot id) and returns the count, 0 when unwritable.</summary>
    public static int CountBoot()
    {
        var bootId = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        try
        {
            var parts = File.Exists(BootCountPath) ? File.ReadAllText(BootCountPath).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
            var count = parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var c) ? c : 0;
            if (parts.Length == 2 && parts[1] == bootId)
            {
                return count;
            }

            count++;
            Directory.CreateDirectory(Path.GetDirectoryName(BootCountPath)!);
            var temporary = BootCountPath + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes($"{count.ToString(CultureInfo.InvariantCulture)} {bootId}\n"));
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, BootCountPath, overwrite: true);
            SyncDirectory(Path.GetDirectoryName(BootCountPath)!);
            return count;
        }
        catch (IOException e)
        {
            AgentConsole.Say($"could not count this boot in {BootCountPath}: {e.Message}");
            return 0;
        }
    }

    private static void SyncDirectory(string path)
    {
        // A rename is durable only once its directory is: a persistent root must not lose the count in a power cut.
        using var directory = Sidus.Linux.DirectoryHandle.Open(path);
        directory.Fsync();
    }

    /// <summary>MemTotal - MemAvailable of MEMINFO (/proc/meminfo's text), or null when either is missing.</summary>
    public static long? MemoryUsedKiB(string meminfo) =>
        UpReport.MeminfoKib(meminfo, "MemTotal") - UpReport.MeminfoKib(meminfo, "MemAvailable");

    /// <summary>(mount point, filesystem type, source) of each line of /proc/self/mountinfo, in mount order.</summary>
    public static List<(string Point, string Type, string Source)> ReadMounts()
    {
        var mounts = new List<(string, string, string)>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length > 4 && separator > 4 && fields.Length > separator + 2)
            {
                mounts.Add((fields[4], fields[separator + 1], fields[separator + 2]));
            }
        }

        return mounts;
    }
}
