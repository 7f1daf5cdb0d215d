namespace Sidus.Agent.Boot;

/// <summary>
/// What the booted system says about itself with "up": how its root is made (the mounts of /, /run/sidus/lower and
/// the upper layer's filesystem, from /proc/self/mountinfo) and how many times this root has booted (a counter kept
/// in the root itself, so it grows only where the root persists: a shared node with a disk overlay).
/// </summary>
internal static class NodeFacts
{
    public const string BootCountPath = "/var/lib/sidus/boot-count";

    /// <summary>REPORT with the root's mounts and boot count added.</summary>
    public static UpReport Add(UpReport report)
    {
        var mounts = ReadMounts();
        string? Mounted(string point, bool withSource) =>
            mounts.LastOrDefault(m => m.Point == point) is { Point: not null } m ? withSource ? $"{m.Type}:{m.Source}" : m.Type : null;
        return report with
        {
            Root = Mounted("/", true),
            Lower = Mounted(SharedRoot.Lower, true),
            Upper = Mounted(OverlayDisk.Mount, true) ?? Mounted(SharedRoot.TmpfsUpper, false),
            Boot = CountBoot(),
        };
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
            AtomicFile.WriteText(BootCountPath, $"{count.ToString(CultureInfo.InvariantCulture)} {bootId}\n");
            return count;
        }
        catch (IOException e)
        {
            AgentConsole.Say($"could not count this boot in {BootCountPath}: {e.Message}");
            return 0;
        }
    }

    /// <summary>MemTotal - MemAvailable of MEMINFO (/proc/meminfo's text), or null when either is missing.</summary>
    public static long? MemoryUsedKiB(string meminfo) =>
        UpCommand.MeminfoKib(meminfo, "MemTotal") - UpCommand.MeminfoKib(meminfo, "MemAvailable");

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
