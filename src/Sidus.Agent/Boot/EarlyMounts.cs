namespace Sidus.Agent.Boot;

/// <summary>The kernel filesystems an init mounts first: /proc, /sys, /dev (devtmpfs), /run.</summary>
internal static class EarlyMounts
{
    private const int EBUSY = 16;

    public static void MountAll()
    {
        Mount("proc", "/proc", "proc", Mounts.MS_NOSUID | Mounts.MS_NODEV | Mounts.MS_NOEXEC);
        Mount("sysfs", "/sys", "sysfs", Mounts.MS_NOSUID | Mounts.MS_NODEV | Mounts.MS_NOEXEC);
        Mount("devtmpfs", "/dev", "devtmpfs", Mounts.MS_NOSUID, "mode=0755");
        Mount("tmpfs", "/run", "tmpfs", Mounts.MS_NOSUID | Mounts.MS_NODEV, "mode=0755");
    }

    private static void Mount(string source, string target, string type, ulong flags, string? data = null)
    {
        Directory.CreateDirectory(target);
        try
        {
            Mounts.Mount(source, target, type, flags, data);
        }
        catch (LinuxException e) when (e.Errno == EBUSY)
        {
            AgentConsole.Say($"{target} is already mounted");
        }
    }
}
