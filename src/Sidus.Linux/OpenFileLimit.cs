namespace Sidus.Linux;

/// <summary>
/// The process's limit on open files. The CoreCLR runtime raises the soft limit to the hard one at start; NativeAOT
/// does not (dotnet/runtime#82719), and the node agent starts as init with the kernel's 1024 (hard 4096), while a
/// sync holds a handle per directory of an image that has thousands.
/// </summary>
public static class OpenFileLimit
{
    private const string SystemMaximum = "/proc/sys/fs/nr_open";

    /// <summary>Raises the limit as far as allowed: to fs.nr_open when privileged, else the soft limit to the hard one. Returns the limit now.</summary>
    public static ulong Raise()
    {
        if (Libc.getrlimit(Libc.RLIMIT_NOFILE, out var limit) != 0)
        {
            throw LinuxException.FromLastError("getrlimit");
        }

        if (File.Exists(SystemMaximum) &&
            ulong.TryParse(File.ReadAllText(SystemMaximum).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var system) &&
            system > limit.Maximum && Libc.setrlimit(Libc.RLIMIT_NOFILE, new Libc.RLimit { Current = system, Maximum = system }) == 0)
        {
            return system;
        }

        if (limit.Current < limit.Maximum)
        {
            if (Libc.setrlimit(Libc.RLIMIT_NOFILE, new Libc.RLimit { Current = limit.Maximum, Maximum = limit.Maximum }) != 0)
            {
                throw LinuxException.FromLastError("setrlimit");
            }
        }

        return limit.Maximum;
    }

    /// <summary>
    /// Raises the soft limit to the hard one and no further: the hard limit is the administrator's ceiling
    /// (LimitNOFILE= of a unit, ulimit -Hn), which a server sizes its connection limits by. Returns the limit now.
    /// </summary>
    public static ulong RaiseToHardLimit()
    {
        if (Libc.getrlimit(Libc.RLIMIT_NOFILE, out var limit) != 0)
        {
            throw LinuxException.FromLastError("getrlimit");
        }

        if (limit.Current < limit.Maximum &&
            Libc.setrlimit(Libc.RLIMIT_NOFILE, new Libc.RLimit { Current = limit.Maximum, Maximum = limit.Maximum }) != 0)
        {
            throw LinuxException.FromLastError("setrlimit");
        }

        return limit.Maximum;
    }
}
