using System.Buffers;
using Sidus.Store.Compression;

namespace Sidus.Store.Packs;

/// <summary>
/// Every pack of the store, opened once: later deletions by gc cannot pull data from under a reader.
/// Reads are verified: an object whose bytes do not hash to its id is reported, never returned.
/// </summary>
public sealed class PackSet : IDisposable
{
    private readonly List<Pack> _packs = [];
    private readonly Dictionary<ObjectId, Location> _index = [];

    [ThreadStatic] private static FrameCache? t_cache;
    private static int s_instances;
    private readonly int _instance = Interlocked.Increment(ref s_instances);

    public PackSet(string packDirectory)
    {
        Directory = packDirectory;
        foreach (var name in NamesIn(packDirectory))
        {
            var idxPath = Path.Combine(packDirectory, name + ".idx");
            var packPath = Path.Combine(packDirectory, name + ".pack");
            SafeFileHandle file;
            try
            {
                file = File.OpenHandle(packPath, FileMode.Open, FileAccess.Read);
            }
            catch (FileNotFoundException)
            {
                throw new CorruptObjectException($"pack {name}: index present but pack file missing");
            }

            var pack = new Pack(name, file, _packs.Count);
            _packs.Add(pack);
            foreach (var record in PackFormat.DecodeIndex(File.ReadAllBytes(idxPath), name))
            {
                _index.TryAdd(record.Id, new Location(pack.Number, record));
            }
        }
    }

    public string Directory { get; }

    /// <summary>The names of the packs in PACKDIRECTORY (each with its index), in the order a set opens them.</summary>
    public static IEnumerable<string> NamesIn(string packDirectory) =>
        System.IO.Directory.EnumerateFiles(packDirectory, "pack-*.idx").Order(StringComparer.Ordinal).Select(Path.GetFileNameWithoutExtension)!;

    public int Count => _index.Count;

    public IEnumerable<string> PackNames => _packs.Select(p => p.Name);

    public IEnumerable<(ObjectId Id, ObjectKind Kind, string Pack, int Length)> All =>
        _index.Select(kv => (kv.Key, kv.Value.Record.Kind, _packs[kv.Value.Pack].Name, kv.Value.Record.Length));

    public bool Contains(ObjectId id) => _index.ContainsKey(id);

    public bool TryGetKind(ObjectId id, out ObjectKind kind)
    {
        if (_index.TryGetValue(id, out var location))
        {
            kind = location.Record.Kind;
            return true;
        }

        kind = default;
        return false;
    }

    /// <summary>Orders objects as they lie on disk (pack, then frame); objects sharing a frame share the key.</summary>
    public long FrameKey(ObjectId id) =>
        _index.TryGetValue(id, out var l) ? ((long)l.Pack << 44) | l.Record.FrameOffset : long.MaxValue;

    public long StoredLength(ObjectId id) => _index.TryGetValue(id, out var l) ? l.Record.Length : 0;

    /// <summary>
    /// Decompressed frames shared by every thread (a server's many requests for the same image), on top of each
    /// thread's own few; null (the default) keeps only the per-thread ones.
    /// </summary>
    public SharedFrameCache? SharedFrames { get; set; }

    /// <summary>Reads an object, checking its hash. Throws <see cref="MissingObjectException"/> or <see cref="CorruptObjectException"/>.</summary>
    /// <remarks>The memory is a slice of a decompressed frame that is never reused: callers may keep it.</remarks>
    public ReadOnlyMemory<byte> Read(ObjectId id, out ObjectKind kind)
    {
        var data = ReadTrusted(id, out kind);
        if (kind != ObjectKind.ChunkList && ObjectId.Hash(data.Span) != id)
        {
            throw new CorruptObjectException($"object {id} in {_packs[_index[id].Pack].Name} is damaged (hash mismatch)");
        }

        return data;
    }

    /// <summary>
    /// Reads an object WITHOUT checking its hash: only for a caller that verified this object through
    /// <see cref="Read(ObjectId, out ObjectKind)"/> earlier in this process (packs are never rewritten in place).
    /// A frame that no longer decompresses still throws <see cref="CorruptObjectException"/>.
    /// </summary>
    public ReadOnlyMemory<byte> ReadTrusted(ObjectId id, out ObjectKind kind)
    {
        var location = Find(id);
        kind = location.Record.Kind;
        var frame = ReadFrame(location);
        return new ReadOnlyMemory<byte>(frame, location.Record.Offset, location.Record.Length);
    }

    public ReadOnlyMemory<byte> Read(ObjectId id, ObjectKind expected)
    {
        var data = Read(id, out var kind);
        if (kind != expected)
        {
            throw new CorruptObjectException($"object {id} is a {kind}, expected a {expected}");
        }

        return data;
    }

    private Location Find(ObjectId id) =>
        _index.TryGetValue(id, out var location)
            ? location
            : throw new MissingObjectException(id);

    private byte[] ReadFrame(Location location)
    {
        var r = location.Record;
        var cache = t_cache ??= new FrameCache();
        if (cache.TryGet(_instance, location.Pack, r.FrameOffset, out var cached))
        {
            return cached;
        }

        var shared = SharedFrames;
        if (shared is not null && shared.TryGet(location.Pack, r.FrameOffset, out cached))
        {
            cache.Put(_instance, location.Pack, r.FrameOffset, cached);
            return cached;
        }

        if (r.FrameRawLength > PackFormat.MaxFrameRawLength || r.FrameLength > Zstd.CompressBound(PackFormat.MaxFrameRawLength)
            || r.Offset < 0 || r.Length < 0 || (long)r.Offset + r.Length > r.FrameRawLength)
        {
            throw new CorruptObjectException($"pack {_packs[location.Pack].Name}: index record out of range");
        }

        var compressed = ArrayPool<byte>.Shared.Rent(r.FrameLength);
        try
        {
            var n = RandomAccess.Read(_packs[location.Pack].File, compressed.AsSpan(0, r.FrameLength), r.FrameOffset);
            if (n != r.FrameLength)
            {
                throw new CorruptObjectException($"pack {_packs[location.Pack].Name} is truncated");
            }

            var raw = new byte[r.FrameRawLength];
            try
            {
                Zstd.Decompress(compressed.AsSpan(0, r.FrameLength), raw);
            }
            catch (CorruptObjectException e)
            {
                throw new CorruptObjectException($"pack {_packs[location.Pack].Name} frame at {r.FrameOffset}: {e.Message}", e);
            }

            cache.Put(_instance, location.Pack, r.FrameOffset, raw);
            shared?.Put(location.Pack, r.FrameOffset, raw);
            return raw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    public void Dispose()
    {
        foreach (var pack in _packs)
        {
            pack.File.Dispose();
        }
    }

    private sealed record Pack(string Name, SafeFileHandle File, int Number);

    private readonly record struct Location(int Pack, IndexRecord Record);

    /// <summary>The last few frames a thread decompressed: small files of one directory share frames.</summary>
    private sealed class FrameCache
    {
        private const int Slots = 4;
        private readonly (int Instance, int Pack, long Offset, byte[]? Data)[] _slots = new (int, int, long, byte[]?)[Slots];
        private int _next;

        public bool TryGet(int instance, int pack, long offset, out byte[] data)
        {
            foreach (var slot in _slots)
            {
                if (slot.Data is not null && slot.Instance == instance && slot.Pack == pack && slot.Offset == offset)
                {
                    data = slot.Data;
                    return true;
                }
            }

            data = [];
            return false;
        }

        public void Put(int instance, int pack, long offset, byte[] data)
        {
            _slots[_next] = (instance, pack, offset, data);
            _next = (_next + 1) % Slots;
        }
    }
}

