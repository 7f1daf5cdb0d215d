namespace Sidus.Store.Packs;

/// <summary>
/// Decompressed frames of ONE <see cref="PackSet"/> (keyed by its pack numbers), shared by all threads and bounded
/// in bytes. Nodes booting together ask for the same frames within seconds of each other, so the oldest frame is
/// the one to drop (first in, first out). A dropped frame is still found while anything (a slow download) holds
/// it, so one frame is never in memory twice. Frames are never modified after decompression: sharing them is safe.
/// </summary>
public sealed class SharedFrameCache
{
    private readonly ConcurrentDictionary<(int Pack, long Offset), byte[]> _frames = new();
    private readonly ConcurrentDictionary<(int Pack, long Offset), WeakReference<byte[]>> _dropped = new();
    private readonly ConcurrentQueue<(int Pack, long Offset)> _order = new();
    private long _bytes;

    public SharedFrameCache(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    public long Bytes => Volatile.Read(ref _bytes);

    public bool TryGet(int pack, long offset, out byte[] frame)
    {
        if (_frames.TryGetValue((pack, offset), out frame!))
        {
            return true;
        }

        if (_dropped.TryGetValue((pack, offset), out var weak) && weak.TryGetTarget(out frame!))
        {
            return true;
        }

        frame = [];
        return false;
    }

    public void Put(int pack, long offset, byte[] frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Length > MaxBytes || !_frames.TryAdd((pack, offset), frame))
        {
            return;
        }

        _dropped.TryRemove((pack, offset), out _);
        _order.Enqueue((pack, offset));
        Interlocked.Add(ref _bytes, frame.Length);
        while (Volatile.Read(ref _bytes) > MaxBytes && _order.TryDequeue(out var oldest))
        {
            if (_frames.TryRemove(oldest, out var dropped))
            {
                Interlocked.Add(ref _bytes, -dropped.Length);
                // One small entry per frame of the packs at most: a store's frame count bounds this table.
                _dropped[oldest] = new WeakReference<byte[]>(dropped);
            }
        }
    }
}
