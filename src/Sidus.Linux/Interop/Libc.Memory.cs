namespace Sidus.Linux.Interop;

/// <summary>Memory advice (madvise(2)).</summary>
internal static partial class Libc
{
    public const int MADV_HUGEPAGE = 14;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int madvise(nint address, nuint length, int advice);
}
