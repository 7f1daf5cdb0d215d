namespace Sidus.Store.Sync;

/// <summary>
/// Where a file's data goes: its content is the bytes of its data extents one after the other (all of it for an
/// ordinary file), and this says at which file offset each next piece of it lies. The one place that knows the
/// layout of a sparse file's data, for everything that writes files out (the sync engine, the cpio export).
/// </summary>
public sealed class SparseCursor(TreeEntry entry)
{
    private readonly IReadOnlyList<Extent> _extents = entry.Extents ?? [new Extent(0, entry.Size)];
    private int _extent;
    private long _inExtent;

    /// <summary>How many of the next AVAILABLE bytes of content go, contiguous, at OFFSET in the file.</summary>
    public int Next(int available, out long offset)
    {
        if (_extent >= _extents.Count)
        {
            throw new CorruptObjectException($"content {entry.Content} is longer than its entry says");
        }

        var e = _extents[_extent];
        offset = e.Offset + _inExtent;
        var n = (int)Math.Min(available, e.Length - _inExtent);
        _inExtent += n;
        if (_inExtent == e.Length)
        {
            _extent++;
            _inExtent = 0;
        }

        return n;
    }
}
