namespace Sidus.Linux;

/// <summary>fstat of an open file: what a handle really is, checked after opening so a swap by name cannot fool us.</summary>
public static unsafe class HandleStatus
{
    public static bool TryGetKindAndSize(SafeFileHandle handle, out FileKind kind, out long size, out int errno)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            byte empty = 0;
            if (Libc.statx(fd, &empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var sx) != 0)
            {
                errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                kind = default;
                size = 0;
                return false;
            }

            errno = 0;
            kind = FileStatus.KindFromMode(sx.Mode);
            size = (long)sx.Size;
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
