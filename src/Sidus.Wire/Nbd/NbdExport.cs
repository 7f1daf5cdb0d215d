using Microsoft.Win32.SafeHandles;

namespace Sidus.Wire.Nbd;

/// <summary>
/// One opened read-only export: a file read with positional reads (pread), so any number of connections share it
/// without a common file position. Disposing closes the handle and tells the owner (which counts open exports).
/// </summary>
public sealed class NbdExport : IDisposable
{
    private readonly Action? _closed;
    private int _disposed;

    public NbdExport(string name, SafeFileHandle handle, long size, string? description = null, Action? closed = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Name = name;
        Handle = handle;
        Size = size;
        Description = description;
        _closed = closed;
    }

    /// <summary>Opens FILE read-only as export NAME.</summary>
    public static NbdExport OpenFile(string name, string file, string? description = null, Action? closed = null)
    {
        var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        return new NbdExport(name, handle, RandomAccess.GetLength(handle), description, closed);
    }

    public string Name { get; }

    public SafeFileHandle Handle { get; }

    public long Size { get; }

    public string? Description { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Handle.Dispose();
        _closed?.Invoke();
    }
}
