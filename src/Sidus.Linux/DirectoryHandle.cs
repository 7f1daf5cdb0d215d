using System.Buffers;

namespace Sidus.Linux;

/// <summary>
/// An open directory. Every operation names a single entry of this directory and never follows a symlink in it,
/// so work done through handles stays inside the tree they were opened from.
/// </summary>
public sealed unsafe class DirectoryHandle : IDisposable
{
    private int _fd;

    private DirectoryHandle(int fd, byte[] displayPath)
    {
        _fd = fd;
        DisplayPath = displayPath;
    }

    /// <summary>The path this handle was opened as (for messages only).</summary>
    public byte[] DisplayPath { get; }

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(DirectoryHandle));

    public static DirectoryHandle Open(string path) => Open(Encoding.UTF8.GetBytes(path));

    /// <summary>Opens a directory by path; symlinks in the path itself are followed, as a user expects.</summary>
    public static DirectoryHandle Open(ReadOnlySpan<byte> path)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(path, b);
        int fd;
        fixed (byte* p = c)
        {
            fd = Libc.openat(Libc.AT_FDCWD, p, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            throw LinuxException.FromLastError("open directory", path);
        }

        return new DirectoryHandle(fd, path.ToArray());
    }

    /// <summary>Opens the child directory NAME; fails with ENOTDIR/ELOOP if it is not a real directory.</summary>
    public DirectoryHandle OpenChild(ReadOnlySpan<byte> name)
    {
        var fd = OpenAt(name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0, "open directory");
        return new DirectoryHandle(fd, Join(DisplayPath, name));
    }

    public bool TryOpenChild(ReadOnlySpan<byte> name, out DirectoryHandle? child)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(name, b);
        int fd;
        fixed (byte* p = c)
        {
            fd = Libc.openat(Fd, p, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        }

        child = fd >= 0 ? new DirectoryHandle(fd, Join(DisplayPath, name)) : null;
        return fd >= 0;
    }

    /// <summary>Opens a regular file of this directory, never through a symlink.</summary>
    public SafeFileHandle OpenFile(ReadOnlySpan<byte> name, int flags, uint mode = 0)
    {
        var fd = OpenAt(name, flags | Libc.O_NOFOLLOW | Libc.O_CLOEXEC | Libc.O_NOCTTY, mode, "open");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public SafeFileHandle OpenRead(ReadOnlySpan<byte> name) => OpenFile(name, Libc.O_RDONLY | Libc.O_NONBLOCK);

    public SafeFileHandle CreateExclusive(ReadOnlySpan<byte> name, uint mode = 0x180) =>
        OpenFile(name, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL, mode);

    /// <summary>The names in this directory (without . and ..), with the type the directory reports, if any.</summary>
    public List<DirectoryEntry> ReadEntries()
    {
        var entries = new List<DirectoryEntry>();
        // Pooled: a sync lists thousands of directories, and a fresh 64 KiB each time was a tenth of an update's
        // time (zeroing new pages, and the collections they cause).
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        // getdents64 continues from the fd's offset: rewind so a handle can be listed more than once.
        Libc.lseek(Fd, 0, 0);
        try
        {
            ReadInto(buffer, entries);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return entries;
    }

    private void ReadInto(byte[] buffer, List<DirectoryEntry> entries)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.getdents64(Fd, p, (nuint)buffer.Length);
                if (n < 0)
                {
                    throw LinuxException.FromLastError("read directory", DisplayPath);
                }

                if (n == 0)
                {
                    break;
                }

                var offset = 0;
                while (offset < n)
                {
                    var record = buffer.AsSpan(offset);
                    var length = BinaryPrimitives.ReadUInt16LittleEndian(record[16..]);
                    var type = record[18];
                    var nameField = record[19..length];
                    var name = nameField[..nameField.IndexOf((byte)0)];
                    offset += length;
                    if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                    {
                        continue;
                    }

                    entries.Add(new DirectoryEntry(name.ToArray(), type));
                }
            }
        }
    }

    /// <summary>lstat of one entry (the directory itself when NAME is empty).</summary>
    public FileStatus Stat(ReadOnlySpan<byte> name)
    {
        if (!TryStat(name, out var status, out var errno))
        {
            throw new LinuxException(errno, "stat", LinuxException.Printable(Join(DisplayPath, name)));
        }

        return status;
    }

    public bool TryStat(ReadOnlySpan<byte> name, out FileStatus status, out int errno)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(name, b);
        StatxBuffer sx;
        int rc;
        var flags = Libc.AT_SYMLINK_NOFOLLOW | (name.IsEmpty ? Libc.AT_EMPTY_PATH : 0);
        fixed (byte* p = c)
        {
            rc = Libc.statx(Fd, p, flags, Libc.STATX_BASIC_STATS, out sx);
        }

        if (rc != 0)
        {
            errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }

        errno = 0;
        status = new FileStatus(
            FileStatus.KindFromMode(sx.Mode),
            sx.Mode & 0xFFFu,
            sx.Uid,
            sx.Gid,
            (long)sx.Size,
            (long)sx.Blocks,
            sx.Ino,
            FileStatus.DeviceNumber(sx.DevMajor, sx.DevMinor),
            sx.Nlink,
            sx.MtimeSec,
            sx.MtimeNsec,
            sx.CtimeSec,
            sx.CtimeNsec,
            sx.RdevMajor,
            sx.RdevMinor);
        return true;
    }

    public byte[] ReadLink(ReadOnlySpan<byte> name)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(name, b);
        var target = new byte[CString.MaxPath];
        nint n;
        fixed (byte* p = c)
        fixed (byte* t = target)
        {
            n = Libc.readlinkat(Fd, p, t, (nuint)target.Length);
        }

        if (n < 0)
        {
            throw LinuxException.FromLastError("readlink", Join(DisplayPath, name));
        }

        return target.AsSpan(0, (int)n).ToArray();
    }

    public void CreateDirectory(ReadOnlySpan<byte> name, uint mode) =>
        Check(name, "mkdir", (fd, p) => Libc.mkdirat(fd, p, mode));

    public void CreateNode(ReadOnlySpan<byte> name, FileKind kind, uint permissions, uint major, uint minor)
    {
        var mode = FileStatus.ModeBitsOf(kind) | permissions;
        var dev = MakeDev(major, minor);
        Check(name, "mknod", (fd, p) => Libc.mknodat(fd, p, mode, dev));
    }

    public void CreateSymlink(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target)
    {
        Span<byte> tb = stackalloc byte[CString.MaxPath];
        var t = CString.Terminate(target, tb);
        fixed (byte* tp = t)
        {
            var tpp = tp;
            Check(name, "symlink", (fd, p) => Libc.symlinkat(tpp, fd, p));
        }
    }

    /// <summary>Makes NAME here a hard link to EXISTING in directory FROM.</summary>
    public void CreateHardLink(ReadOnlySpan<byte> name, DirectoryHandle from, ReadOnlySpan<byte> existing)
    {
        Span<byte> eb = stackalloc byte[CString.MaxPath];
        var e = CString.Terminate(existing, eb);
        var fromFd = from.Fd;
        fixed (byte* ep = e)
        {
            var epp = ep;
            Check(name, "link", (fd, p) => Libc.linkat(fromFd, epp, fd, p, 0));
        }
    }

    public void Unlink(ReadOnlySpan<byte> name) => Check(name, "unlink", (fd, p) => Libc.unlinkat(fd, p, 0));

    public void RemoveEmptyDirectory(ReadOnlySpan<byte> name) =>
        Check(name, "rmdir", (fd, p) => Libc.unlinkat(fd, p, Libc.AT_REMOVEDIR));

    /// <summary>
    /// Removes NAME whatever it is; a directory is removed with everything in it. Never crosses into another
    /// filesystem: a mount point inside (a leftover /proc of a chroot, say) stops the removal with an error.
    /// </summary>
    public void RemoveTree(ReadOnlySpan<byte> name) => RemoveTree(name, Stat([]).Device);

    private void RemoveTree(ReadOnlySpan<byte> name, ulong device)
    {
        if (!TryStat(name, out var st, out var errno))
        {
            if (errno == Errno.ENOENT)
            {
                return;
            }

            throw new LinuxException(errno, "stat", LinuxException.Printable(Join(DisplayPath, name)));
        }

        if (st.Kind != FileKind.Directory)
        {
            Unlink(name);
            return;
        }

        if (st.Device != device)
        {
            throw new IOException($"{LinuxException.Printable(Join(DisplayPath, name))} is a mount point: unmount it first (sidus never deletes across filesystems)");
        }

        using (var child = OpenChild(name))
        {
            foreach (var entry in child.ReadEntries())
            {
                child.RemoveTree(entry.Name, device);
            }
        }

        RemoveEmptyDirectory(name);
    }

    public void Rename(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        Span<byte> tb = stackalloc byte[CString.MaxPath];
        var t = CString.Terminate(to, tb);
        fixed (byte* tp = t)
        {
            var tpp = tp;
            Check(from, "rename", (fd, p) => Libc.renameat(fd, p, fd, tpp));
        }
    }

    public void SetOwner(ReadOnlySpan<byte> name, uint uid, uint gid)
    {
        var flags = Libc.AT_SYMLINK_NOFOLLOW | (name.IsEmpty ? Libc.AT_EMPTY_PATH : 0);
        Check(name, "chown", (fd, p) => Libc.fchownat(fd, p, uid, gid, flags));
    }

    /// <summary>chmod of an entry that is not a symlink (Linux has no permissions on symlinks).</summary>
    public void SetPermissions(ReadOnlySpan<byte> name, uint permissions)
    {
        if (name.IsEmpty)
        {
            Check("."u8, "chmod", (fd, p) => Libc.fchmodat(fd, p, permissions, 0));
            return;
        }

        Check(name, "chmod", (fd, p) => Libc.fchmodat(fd, p, permissions, 0));
    }

    public void SetModificationTime(ReadOnlySpan<byte> name, long seconds, uint nanoseconds)
    {
        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = 0, Nanoseconds = (1L << 30) - 2 }; // UTIME_OMIT: leave atime.
        times[1] = new Timespec { Seconds = seconds, Nanoseconds = nanoseconds };
        var tp = times;
        if (name.IsEmpty)
        {
            Check("."u8, "utimensat", (fd, p) => Libc.utimensat(fd, p, tp, 0));
            return;
        }

        Check(name, "utimensat", (fd, p) => Libc.utimensat(fd, p, tp, Libc.AT_SYMLINK_NOFOLLOW));
    }

    /// <summary>All extended attributes of an entry (including system.posix_acl_*), sorted by name.</summary>
    public List<KeyValuePair<byte[], byte[]>> ReadXattrs(ReadOnlySpan<byte> name) =>
        Xattrs.ReadAll(ProcPath(name), Join(DisplayPath, name));

    public void SetXattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> attribute, ReadOnlySpan<byte> value) =>
        Xattrs.Set(ProcPath(name), attribute, value, Join(DisplayPath, name));

    public void RemoveXattr(ReadOnlySpan<byte> name, ReadOnlySpan<byte> attribute) =>
        Xattrs.Remove(ProcPath(name), attribute, Join(DisplayPath, name));

    /// <summary>Flushes the whole filesystem this directory is on (one syncfs instead of a fsync per file).</summary>
    public void SyncFilesystem()
    {
        if (Libc.syncfs(Fd) != 0)
        {
            throw LinuxException.FromLastError("syncfs", DisplayPath);
        }
    }

    public void Fsync()
    {
        if (Libc.fsync(Fd) != 0)
        {
            throw LinuxException.FromLastError("fsync", DisplayPath);
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    public static byte[] Join(ReadOnlySpan<byte> directory, ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return directory.ToArray();
        }

        if (directory.IsEmpty)
        {
            return name.ToArray();
        }

        var slash = directory[^1] == (byte)'/' ? 0 : 1;
        var result = new byte[directory.Length + slash + name.Length];
        directory.CopyTo(result);
        if (slash == 1)
        {
            result[directory.Length] = (byte)'/';
        }

        name.CopyTo(result.AsSpan(directory.Length + slash));
        return result;
    }

    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
        ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    /// <summary>/proc/self/fd/N/NAME: resolves to this directory, then NAME without following it.</summary>
    private byte[] ProcPath(ReadOnlySpan<byte> name)
    {
        var prefix = Encoding.ASCII.GetBytes($"/proc/self/fd/{Fd}");
        return Join(prefix, name.IsEmpty ? "."u8 : name);
    }

    private int OpenAt(ReadOnlySpan<byte> name, int flags, uint mode, string operation)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(name, b);
        int fd;
        fixed (byte* p = c)
        {
            fd = Libc.openat(Fd, p, flags, mode);
        }

        if (fd < 0)
        {
            throw LinuxException.FromLastError(operation, Join(DisplayPath, name));
        }

        return fd;
    }

    private delegate int NameCall(int dirfd, byte* path);

    private void Check(ReadOnlySpan<byte> name, string operation, NameCall call)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath];
        var c = CString.Terminate(name, b);
        int rc;
        fixed (byte* p = c)
        {
            rc = call(Fd, p);
        }

        if (rc != 0)
        {
            throw LinuxException.FromLastError(operation, Join(DisplayPath, name));
        }
    }
}

/// <summary>One name of a directory listing; Type is the d_type the filesystem gave (0 when unknown).</summary>
public readonly record struct DirectoryEntry(byte[] Name, byte Type);
