using System.Runtime.InteropServices;

namespace Sidus.Testing;

internal static partial class Native
{
    public const int CloneNewNet = 0x40000000;
    public const int SigTerm = 15;
    public const int SigKill = 9;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);
}
