namespace Sidus.Linux;

/// <summary>The nice value of the calling thread (on Linux, setpriority on PRIO_PROCESS 0 applies to one thread).</summary>
public static class ThreadNice
{
    private const int PRIO_PROCESS = 0;
    public const int Lowest = 19;

    public static void Set(int nice)
    {
        if (Libc.setpriority(PRIO_PROCESS, 0, nice) != 0)
        {
            throw LinuxException.FromLastError("setpriority");
        }
    }
}
