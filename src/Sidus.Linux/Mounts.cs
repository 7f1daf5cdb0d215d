namespace Sidus.Linux;

/// <summary>mount(2) and umount2(2) with text paths (an init process mounts well-known paths only).</summary>
public static unsafe class Mounts
{
    public const ulong MS_RDONLY = 0x1;
    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_BIND = 0x1000;
    public const ulong MS_MOVE = 0x2000;
    public const ulong MS_REC = 0x4000;

    /// <summary>Mounts a filesystem; throws <see cref="LinuxException"/> with the errno when the kernel refuses.</summary>
    public static void Mount(string source, string target, string? fstype, ulong flags, string? data = null)
    {
        var s = Bytes(source);
        var t = Bytes(target);
        var f = fstype is null ? null : Bytes(fstype);
        var d = data is null ? null : Bytes(data);
        fixed (byte* sp = s, tp = t, fp = f, dp = d)
        {
            if (Libc.mount(sp, tp, fp, flags, dp) != 0)
            {
                throw LinuxException.FromLastError($"mount {fstype ?? "(move)"} {source} on", target);
            }
        }
    }

    /// <summary>Moves the mount at SOURCE to TARGET (MS_MOVE), as switch_root does for /proc, /sys, /dev, /run.</summary>
    public static void Move(string source, string target) => Mount(source, target, null, MS_MOVE);

    public static void Unmount(string target, int flags = 0)
    {
        var t = Bytes(target);
        fixed (byte* tp = t)
        {
            if (Libc.umount2(tp, flags) != 0)
            {
                throw LinuxException.FromLastError("umount", target);
            }
        }
    }

    internal static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
