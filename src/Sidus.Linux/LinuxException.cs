namespace Sidus.Linux;

/// <summary>A failed system call, with the errno, the call and the path it was about.</summary>
public sealed class LinuxException : IOException
{
    public LinuxException(int errno, string operation, string? path)
        : base(Describe(errno, operation, path))
    {
        Errno = errno;
        Operation = operation;
        PathText = path;
    }

    public int Errno { get; }
    public string Operation { get; }
    public string? PathText { get; }

    public static LinuxException FromLastError(string operation, ReadOnlySpan<byte> path) =>
        new(Marshal.GetLastPInvokeError(), operation, path.IsEmpty ? null : Printable(path));

    public static LinuxException FromLastError(string operation, string? path = null) =>
        new(Marshal.GetLastPInvokeError(), operation, path);

    /// <summary>A path as a person should see it: valid UTF-8 as is, other bytes as \xNN.</summary>
    public static string Printable(ReadOnlySpan<byte> path)
    {
        var sb = new StringBuilder(path.Length);
        while (!path.IsEmpty)
        {
            var rune = Rune.DecodeFromUtf8(path, out var r, out var consumed);
            if (rune == System.Buffers.OperationStatus.Done && r.Value >= 0x20 && r.Value != 0x7f)
            {
                sb.Append(r.ToString());
            }
            else
            {
                consumed = 1;
                sb.Append("\\x").Append(path[0].ToString("x2"));
            }

            path = path[consumed..];
        }

        return sb.ToString();
    }

    private static string Describe(int errno, string operation, string? path)
    {
        var reason = Marshal.GetPInvokeErrorMessage(errno);
        return path is null ? $"{operation}: {reason}" : $"{operation} {path}: {reason}";
    }
}

public static class Errno
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int EOPNOTSUPP = 95;
    public const int EWOULDBLOCK = 11;
    public const int EMLINK = 31;
    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int EBUSY = 16;
}
