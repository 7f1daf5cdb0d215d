namespace Sidus.Store.Sync;

/// <summary>
/// What sidus last wrote into a directory: for each regular file, the inode, size, mtime and ctime it had right
/// after, and its content id. A file whose stat still matches holds that content (ctime changes with any write,
/// chmod, chown or xattr change, and cannot be set back), so a no-op sync is a stat walk and a re-import of a
/// changed tree reads only what changed.
/// </summary>
public sealed class StateCache
{
    private static ReadOnlySpan<byte> Magic => "SIDUSSC\u0001"u8;
    private readonly Dictionary<byte[], Record> _records;

    private StateCache(ObjectId commit, Dictionary<byte[], Record> records)
    {
        Commit = commit;
        _records = records;
    }

    /// <summary>The version the directory was made equal to.</summary>
    public ObjectId Commit { get; }

    public int Count => _records.Count;

    /// <summary>The same records, said to describe version COMMIT.</summary>
    public StateCache WithCommit(ObjectId commit) => new(commit, _records);

    public static StateCache Empty(ObjectId commit) => new(commit, new Dictionary<byte[], Record>(ByteComparer.Instance));

    public static string PathFor(string cacheDirectory, string targetDirectory)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(targetDirectory))));
        return Path.Combine(cacheDirectory, "checkouts", key[..32] + ".state");
    }

    public (ObjectId Content, IReadOnlyList<Extent>? Extents, bool HasXattrs)? Lookup(byte[] path, FileStatus status)
    {
        if (!_records.TryGetValue(path, out var r))
        {
            return null;
        }

        return r.Inode == status.Inode && r.Size == status.Size && r.MtimeSeconds == status.MtimeSeconds &&
               r.MtimeNanoseconds == status.MtimeNanoseconds && r.CtimeSeconds == status.CtimeSeconds &&
               r.CtimeNanoseconds == status.CtimeNanoseconds
            ? (r.Content, r.Extents, r.HasXattrs)
            : null;
    }

    /// <summary>Whether the last sync left PATH.</summary>
    public bool Contains(byte[] path) => _records.ContainsKey(path);

    /// <summary>The paths the last sync left.</summary>
    public IEnumerable<byte[]> Paths => _records.Keys;

    /// <summary>The content the sync left at PATH (its identity, for a symlink or node), or null when it left nothing there.</summary>
    public ObjectId? ContentOf(byte[] path) => _records.TryGetValue(path, out var record) ? record.Content : null;

    /// <summary>For a recorded PATH whose stat no longer matches: true when only its ctime moved (owner, mode,
    /// xattrs), false when its data, size or mtime changed or it is another file now.</summary>
    public bool OnlyMetadataChanged(byte[] path, FileStatus status) =>
        _records.TryGetValue(path, out var r) && r.Inode == status.Inode && r.Size == status.Size &&
        r.MtimeSeconds == status.MtimeSeconds && r.MtimeNanoseconds == status.MtimeNanoseconds;

    public void Add(byte[] path, FileStatus status, ObjectId content, IReadOnlyList<Extent>? extents, bool hasXattrs)
    {
        lock (_records)
        {
            _records[path] = new Record(status.Inode, status.Size, status.MtimeSeconds, status.MtimeNanoseconds,
                status.CtimeSeconds, status.CtimeNanoseconds, content, extents, hasXattrs);
        }
    }

    /// <summary>Loads the cache, or null when there is none or it does not read cleanly (then nothing is trusted).</summary>
    public static StateCache? Load(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return Decode(data);
        }
        catch (CorruptObjectException)
        {
            return null;
        }
    }

    /// <summary>Forgets the cache before a directory is changed, so an interrupted sync leaves nothing to trust.</summary>
    public static void Invalidate(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, Encode());
    }

    /// <summary>The cache as its file holds it.</summary>
    public byte[] Encode()
    {
        var w = new ByteWriter(64 + _records.Count * 96);
        w.Raw(Magic);
        w.Id(Commit);
        w.Varint((ulong)_records.Count);
        foreach (var (name, r) in _records)
        {
            w.Bytes(name);
            w.Varint(r.Inode);
            w.Varint((ulong)r.Size);
            w.SignedVarint(r.MtimeSeconds);
            w.Varint(r.MtimeNanoseconds);
            w.SignedVarint(r.CtimeSeconds);
            w.Varint(r.CtimeNanoseconds);
            w.Id(r.Content);
            w.Byte(r.HasXattrs ? (byte)1 : (byte)0);
            w.Varint(r.Extents is null ? 0 : (ulong)r.Extents.Count + 1);
            foreach (var e in r.Extents ?? [])
            {
                w.Varint((ulong)e.Offset);
                w.Varint((ulong)e.Length);
            }
        }

        w.Id(ObjectId.Hash(w.WrittenSpan));
        return w.WrittenSpan.ToArray();
    }

    private static StateCache Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < Magic.Length + 2 * ObjectId.Size || !data[..Magic.Length].SequenceEqual(Magic) ||
            ObjectId.Hash(data[..^ObjectId.Size]) != ObjectId.Read(data[^ObjectId.Size..]))
        {
            throw new CorruptObjectException("state cache damaged");
        }

        var r = new ByteReader(data[Magic.Length..^ObjectId.Size]);
        var commit = r.Id();
        var count = r.Length(100_000_000);
        var records = new Dictionary<byte[], Record>(count, ByteComparer.Instance);
        for (var i = 0; i < count; i++)
        {
            var name = r.Bytes(CString.MaxPathLength).ToArray();
            var record = new Record(r.Varint(), (long)r.Varint(), r.SignedVarint(), r.UInt32Varint(), r.SignedVarint(),
                r.UInt32Varint(), r.Id(), null, r.Byte() != 0);
            var extents = r.Length(TreeCodec.MaxExtents + 1);
            if (extents > 0)
            {
                var list = new List<Extent>(extents - 1);
                for (var j = 0; j < extents - 1; j++)
                {
                    list.Add(new Extent((long)r.Varint(), (long)r.Varint()));
                }

                record = record with { Extents = list };
            }

            records[name] = record;
        }

        return new StateCache(commit, records);
    }

    private sealed record Record(ulong Inode, long Size, long MtimeSeconds, uint MtimeNanoseconds, long CtimeSeconds,
        uint CtimeNanoseconds, ObjectId Content, IReadOnlyList<Extent>? Extents, bool HasXattrs);
}

internal static class CString
{
    public const int MaxPathLength = 1 << 20;
}
