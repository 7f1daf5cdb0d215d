namespace Sidus.Linux;

/// <summary>Keeping a process's pages in RAM.</summary>
public static class ProcessMemory
{
    private const int MCL_CURRENT = 1;

    /// <summary>
    /// Faults in and locks every page mapped now (the binary, libc...): a process that must keep working while the
    /// filesystem its libraries come from is stalled (a network root whose server is gone) must never page them in.
    /// </summary>
    public static void LockCurrent()
    {
        if (Libc.mlockall(MCL_CURRENT) != 0)
        {
            throw LinuxException.FromLastError("mlockall(MCL_CURRENT)");
        }
    }
}
