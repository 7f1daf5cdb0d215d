namespace Sidus.Store.Tests.Support;

/// <summary>Every file under a store's home with its size and modification time, and every directory: equal
/// listings before and after an operation mean it left nothing behind (no pack, no ref, no staged leftover).
/// Directories' times are left out (a writer that staged a file and removed it changed nothing), and so is the
/// time of the store's lock file, which every writer takes.</summary>
public static class StoreListing
{
    public static string Of(string home) => string.Join('\n',
        new DirectoryInfo(home).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
            .Select(i => Path.GetRelativePath(home, i.FullName) + i switch
            {
                FileInfo { Name: "lock" } f => $" {f.Length}",
                FileInfo f => $" {f.Length} {f.LastWriteTimeUtc.Ticks}",
                _ => "/",
            })
            .Order(StringComparer.Ordinal));
}
