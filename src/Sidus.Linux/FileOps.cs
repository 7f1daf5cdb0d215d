using Microsoft.Win32.SafeHandles;
using Sidus.Linux.Interop;

namespace Sidus.Linux;

/// <summary>Calls on open regular files that .NET does not offer: holes, truncation, flush, locks.</summary>
public static class FileOps
{
    /// <summary>The data extents of a file (offset, length); holes lie between them.</summary>
    public static List<(long Offset, long Length)> DataExtents(SafeFileHandle file, long size)
    {
        var extents = new List<(long, long)>();
        var fd = (int)file.DangerousGetHandle();
        long position = 0;
        while (position < size)
        {
            var data = Libc.lseek(fd, position, Libc.SEEK_DATA);
            if (data < 0)
            {
                var error = LinuxException.FromLastError("lseek SEEK_DATA");
                if (error.Errno == 6 /* ENXIO: no more data */)
                {
                    break;
                }

                throw error;
            }

            var hole = Libc.lseek(fd, data, Libc.SEEK_HOLE);
            if (hole < 0)
            {
                throw LinuxException.FromLastError("lseek SEEK_HOLE");
            }

            hole = Math.Min(hole, size);
            if (hole > data)
            {
                extents.Add((data, hole - data));
            }

            position = hole;
        }

        return extents;
    }

    public static void Truncate(SafeFileHandle file, long length)
    {
        if (Libc.ftruncate((int)file.DangerousGetHandle(), length) != 0)
        {
            throw LinuxException.FromLastError("ftruncate");
        }
    }

    public static void Fsync(SafeFileHandle file)
    {
        if (Libc.fsync((int)file.DangerousGetHandle()) != 0)
        {
            throw LinuxException.FromLastError("fsync");
        }
    }

    public static void SetOwner(SafeFileHandle file, uint uid, uint gid)
    {
        unsafe
        {
            if (Libc.fchownat((int)file.DangerousGetHandle(), (byte*)EmptyPath, uid, gid, Libc.AT_EMPTY_PATH) != 0)
            {
                throw LinuxException.FromLastError("fchown");
            }
        }
    }

    /// <summary>Takes an exclusive flock; false if another process holds it and WAIT is false.</summary>
    public static bool TryLockExclusive(SafeFileHandle file, bool wait)
    {
        var op = Libc.LOCK_EX | (wait ? 0 : Libc.LOCK_NB);
        while (true)
        {
            if (Libc.flock((int)file.DangerousGetHandle(), op) == 0)
            {
                return true;
            }

            var error = LinuxException.FromLastError("flock");
            if (error.Errno == Errno.EWOULDBLOCK)
            {
                return false;
            }

            if (error.Errno != Errno.EINTR)
            {
                throw error;
            }
        }
    }

    public static bool IsRoot => Libc.geteuid() == 0;

    private static readonly nint EmptyPath = System.Runtime.InteropServices.Marshal.AllocHGlobal(1);

    static FileOps()
    {
        unsafe
        {
            *(byte*)EmptyPath = 0;
        }
    }
}
