namespace Sidus.Linux;

/// <summary>open(2) flag sets callers of <see cref="DirectoryHandle.OpenFile"/> need.</summary>
public static class OpenFlags
{
    public const int ReadOnly = Interop.Libc.O_RDONLY;
    public const int CreateExclusiveReadWrite = Interop.Libc.O_RDWR | Interop.Libc.O_CREAT | Interop.Libc.O_EXCL;
}
