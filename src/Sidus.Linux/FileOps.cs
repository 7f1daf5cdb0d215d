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

    /// <summary>
    /// Writes all of DATA at OFFSET (pwrite until done). RandomAccess.Write does the same but first asks the kernel
    /// whether each new handle can seek: one more system call per file, for a sync that writes thousands. The error
    /// names no path: the caller knows which file it was writing.
    /// </summary>
    public static unsafe void WriteAt(SafeFileHandle file, ReadOnlySpan<byte> data, long offset)
    {
        var fd = (int)file.DangerousGetHandle();
        fixed (byte* start = data)
        {
            for (var done = 0; done < data.Length;)
            {
                var n = Libc.pwrite(fd, start + done, (nuint)(data.Length - done), offset + done);
                if (n < 0)
                {
                    var error = LinuxException.FromLastError("write");
                    if (error.Errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw error;
                }

                done += (int)n;
            }
        }
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

    /// <summary>Starts writing FILE's dirty pages back to disk and returns without waiting for them (no journal
    /// commit, no cache flush: that stays the final <see cref="Fsync"/>'s).</summary>
    public static void StartWriteBack(SafeFileHandle file)
    {
        if (Libc.sync_file_range((int)file.DangerousGetHandle(), 0, 0, Libc.SYNC_FILE_RANGE_WRITE) != 0)
        {
            throw LinuxException.FromLastError("sync_file_range");
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

    public static uint EffectiveUserId => Libc.geteuid();

    /// <summary>
    /// Whether programs may run from files in DIRECTORY: false where its filesystem is mounted noexec. (test -x
    /// cannot tell: busybox's answers from the mode bits alone for root.)
    /// </summary>
    public static bool AllowsPrograms(string directory)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(directory);
        Span<byte> buffer = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(bytes, buffer);
        unsafe
        {
            fixed (byte* p = c)
            {
                if (Libc.statvfs(p, out var status) != 0)
                {
                    throw LinuxException.FromLastError("statvfs", directory);
                }

                return (status.Flags & Libc.ST_NOEXEC) == 0;
            }
        }
    }

    /// <summary>
    /// Opens (creating if needed) a file for our own flock: .NET's FileStream takes flocks of its own to emulate
    /// FileShare, which would collide with ours, so this goes straight to open(2).
    /// </summary>
    public static SafeFileHandle OpenForLocking(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path);
        Span<byte> buffer = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(bytes, buffer);
        int fd;
        unsafe
        {
            fixed (byte* p = c)
            {
                fd = Libc.openat(Libc.AT_FDCWD, p, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4);
            }
        }

        if (fd < 0)
        {
            throw LinuxException.FromLastError("open", path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Reads a small file without .NET's FileShare locks (see <see cref="OpenForLocking"/>).</summary>
    public static byte[] ReadSmallFile(SafeFileHandle file, int max = 4096)
    {
        var buffer = new byte[max];
        var n = RandomAccess.Read(file, buffer, 0);
        return buffer.AsSpan(0, n).ToArray();
    }

    private static readonly nint EmptyPath = System.Runtime.InteropServices.Marshal.AllocHGlobal(1);

    static FileOps()
    {
        unsafe
        {
            *(byte*)EmptyPath = 0;
        }
    }
}
