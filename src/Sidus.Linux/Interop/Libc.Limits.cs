namespace Sidus.Linux.Interop;

/// <summary>Resource limits (getrlimit(2)).</summary>
internal static partial class Libc
{
    public const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getrlimit(int resource, out RLimit limit);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setrlimit(int resource, in RLimit limit);
}
