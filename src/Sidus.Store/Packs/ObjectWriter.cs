namespace Sidus.Store.Packs;

/// <summary>
/// Stores new objects during one write operation: skips what the store or this operation already has, groups small
/// objects into frames per thread, and commits everything as one pack.
/// </summary>
public sealed class ObjectWriter : IDisposable
{
    private readonly PackSet _existing;
    private readonly PackWriter _pack;
    private readonly ConcurrentDictionary<ObjectId, byte> _written = new();
    private readonly ThreadLocal<FrameBatch> _batches;
    private readonly int _level;
    private readonly bool _dedupAgainstExisting;
    private long _storedRawBytes;

    public ObjectWriter(PackSet existing, string stagingDirectory, int compressionLevel, bool dedupAgainstExisting = true)
    {
        _existing = existing;
        _dedupAgainstExisting = dedupAgainstExisting;
        _level = compressionLevel;
        _pack = new PackWriter(stagingDirectory, existing.Directory);
        _batches = new ThreadLocal<FrameBatch>(() => new FrameBatch(), trackAllValues: true);
    }

    /// <summary>Bytes of new (not deduplicated) object data written so far, before compression.</summary>
    public long NewBytes => Interlocked.Read(ref _storedRawBytes);

    public long PackBytes => _pack.Length;

    public bool Has(ObjectId id) => (_dedupAgainstExisting && _existing.Contains(id)) || _written.ContainsKey(id);

    /// <summary>Stores DATA under ID unless already present. Returns true when it was new.</summary>
    public bool Put(ObjectId id, ObjectKind kind, ReadOnlySpan<byte> data)
    {
        if (data.Length > PackFormat.MaxObjectLength)
        {
            throw new ArgumentException($"object of {data.Length} bytes is over the {PackFormat.MaxObjectLength} limit", nameof(data));
        }

        if ((_dedupAgainstExisting && _existing.Contains(id)) || !_written.TryAdd(id, 0))
        {
            return false;
        }

        Interlocked.Add(ref _storedRawBytes, data.Length);
        if (data.Length >= PackFormat.OwnFrameThreshold)
        {
            _pack.AddRawFrame(data, [new PendingObject(id, kind, 0, data.Length)], _level);
            return true;
        }

        var batch = _batches.Value!;
        batch.Add(id, kind, data);
        if (batch.Length >= PackFormat.FrameTarget)
        {
            batch.FlushTo(_pack, _level);
        }

        return true;
    }

    /// <summary>
    /// Stores a zstd frame that is already compressed, as it came (a capture's wire block): OBJECTS are at their
    /// offsets in its RAWLENGTH decompressed bytes, and the bytes between them are never read. The caller has
    /// decompressed the frame to exactly RAWLENGTH bytes and checks each object's hash before it commits. Objects
    /// the store or this operation has already are left out; a frame with none left is not written.
    /// </summary>
    public void PutFrame(ReadOnlySpan<byte> compressed, int rawLength, IReadOnlyList<PendingObject> objects)
    {
        var kept = new List<PendingObject>(objects.Count);
        foreach (var o in objects)
        {
            if (!(_dedupAgainstExisting && _existing.Contains(o.Id)) && _written.TryAdd(o.Id, 0))
            {
                kept.Add(o);
                Interlocked.Add(ref _storedRawBytes, o.Length);
            }
        }

        if (kept.Count > 0)
        {
            _pack.AddFrame(compressed, rawLength, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(kept));
        }
    }

    /// <summary>Closes the calling thread's current frame, so the next objects start a new one.</summary>
    public void FlushBatch()
    {
        if (_batches.IsValueCreated)
        {
            _batches.Value!.FlushTo(_pack, _level);
        }
    }

    /// <summary>Writes what is still batched, then makes the pack durable and visible. Null if nothing was new.</summary>
    public string? Commit()
    {
        foreach (var batch in _batches.Values)
        {
            batch.FlushTo(_pack, _level);
        }

        return _pack.Commit();
    }

    public void Dispose()
    {
        _pack.Dispose();
        _batches.Dispose();
    }

    private sealed class FrameBatch
    {
        private readonly byte[] _buffer = new byte[PackFormat.FrameTarget + PackFormat.OwnFrameThreshold];
        private readonly List<PendingObject> _objects = [];

        public int Length { get; private set; }

        public void Add(ObjectId id, ObjectKind kind, ReadOnlySpan<byte> data)
        {
            data.CopyTo(_buffer.AsSpan(Length));
            _objects.Add(new PendingObject(id, kind, Length, data.Length));
            Length += data.Length;
        }

        public void FlushTo(PackWriter pack, int level)
        {
            if (_objects.Count == 0)
            {
                return;
            }

            pack.AddRawFrame(_buffer.AsSpan(0, Length), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_objects), level);
            _objects.Clear();
            Length = 0;
        }
    }
}
