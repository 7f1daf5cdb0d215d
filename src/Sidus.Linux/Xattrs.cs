namespace Sidus.Linux;

/// <summary>Extended attributes by path, never following a final symlink (l*xattr).</summary>
public static unsafe class Xattrs
{
    private const int MaxValue = 64 * 1024;

    public static List<KeyValuePair<byte[], byte[]>> ReadAll(ReadOnlySpan<byte> path, ReadOnlySpan<byte> displayPath)
    {
        var result = new List<KeyValuePair<byte[], byte[]>>();
        Span<byte> b = stackalloc byte[CString.MaxPath + 32];
        var c = CString.Terminate(path, b);
        fixed (byte* p = c)
        {
            var names = ListNames(p, displayPath);
            if (names.Length == 0)
            {
                return result;
            }

            var value = new byte[MaxValue];
            var rest = names.AsSpan();
            while (!rest.IsEmpty)
            {
                var end = rest.IndexOf((byte)0);
                var name = rest[..(end + 1)];
                rest = rest[(end + 1)..];
                nint n;
                fixed (byte* np = name)
                fixed (byte* vp = value)
                {
                    n = Libc.lgetxattr(p, np, vp, (nuint)value.Length);
                }

                if (n < 0)
                {
                    var error = LinuxException.FromLastError("getxattr", displayPath);
                    if (error.Errno == Errno.ENODATA)
                    {
                        continue; // removed between list and get
                    }

                    throw error;
                }

                result.Add(new(name[..^1].ToArray(), value.AsSpan(0, (int)n).ToArray()));
            }
        }

        result.Sort((x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
        return result;
    }

    public static void Set(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, ReadOnlySpan<byte> displayPath)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath + 32];
        Span<byte> nb = stackalloc byte[256];
        var c = CString.Terminate(path, b);
        var n = CString.Terminate(name, nb);
        fixed (byte* p = c)
        fixed (byte* np = n)
        fixed (byte* vp = value)
        {
            if (Libc.lsetxattr(p, np, vp, (nuint)value.Length, 0) != 0)
            {
                throw LinuxException.FromLastError($"setxattr {System.Text.Encoding.UTF8.GetString(name)}", displayPath);
            }
        }
    }

    public static void Remove(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, ReadOnlySpan<byte> displayPath)
    {
        Span<byte> b = stackalloc byte[CString.MaxPath + 32];
        Span<byte> nb = stackalloc byte[256];
        var c = CString.Terminate(path, b);
        var n = CString.Terminate(name, nb);
        fixed (byte* p = c)
        fixed (byte* np = n)
        {
            if (Libc.lremovexattr(p, np) != 0)
            {
                var error = LinuxException.FromLastError("removexattr", displayPath);
                if (error.Errno != Errno.ENODATA)
                {
                    throw error;
                }
            }
        }
    }

    private static byte[] ListNames(byte* path, ReadOnlySpan<byte> displayPath)
    {
        while (true)
        {
            var size = Libc.llistxattr(path, null, 0);
            if (size < 0)
            {
                var error = LinuxException.FromLastError("listxattr", displayPath);
                if (error.Errno == Errno.EOPNOTSUPP)
                {
                    return [];
                }

                throw error;
            }

            if (size == 0)
            {
                return [];
            }

            var names = new byte[size];
            fixed (byte* np = names)
            {
                var n = Libc.llistxattr(path, np, (nuint)names.Length);
                if (n >= 0)
                {
                    return names.AsSpan(0, (int)n).ToArray();
                }

                var error = LinuxException.FromLastError("listxattr", displayPath);
                if (error.Errno != Errno.ERANGE)
                {
                    throw error;
                }
            }
        }
    }
}
