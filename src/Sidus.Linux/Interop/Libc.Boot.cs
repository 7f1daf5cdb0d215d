namespace Sidus.Linux.Interop;

/// <summary>The libc calls an init process needs: mounts, root switch, exec, kernel modules, netlink sockets.</summary>
internal static unsafe partial class Libc
{
    public const int SYS_finit_module_x64 = 313;
    public const int SYS_finit_module_arm64 = 273;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int mount(byte* source, byte* target, byte* fstype, ulong flags, byte* data);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int umount2(byte* target, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int chroot(byte* path);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int reboot(int command);

    [LibraryImport(Lib)]
    public static partial void sync();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int chdir(byte* path);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int execv(byte* path, byte** argv);

    /// <summary>syscall(2) with three integer arguments (finit_module has no libc wrapper).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial long syscall(long number, long a, long b, long c);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int bind(int fd, byte* address, uint length);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial uint if_nametoindex(byte* name);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, byte* value, uint length);

    /// <summary>poll(2) on one descriptor: struct pollfd is int fd, short events, short revents.</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(byte* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int mlockall(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, byte* argument);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, nint argument);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setpriority(int which, uint who, int priority);
}
