namespace Sidus.Store.Trees;

/// <summary>
/// The canonical encoding of a directory (a tree object): entries sorted by name bytes, every field in a fixed order,
/// so the same directory always has the same id. Layout is documented in docs/store-format.md; do not change it
/// without bumping <see cref="FormatVersion"/>.
/// </summary>
public static class TreeCodec
{
    public const byte FormatVersion = 1;
    public const int MaxNameLength = 255;
    public const int MaxTargetLength = 4095;
    public const int MaxXattrNameLength = 255;
    public const int MaxXattrValueLength = 64 * 1024;
    public const int MaxEntries = 10_000_000;
    public const int MaxExtents = 1_000_000;

    public static byte[] Encode(IReadOnlyList<TreeEntry> sortedEntries)
    {
        var w = new ByteWriter(64 + sortedEntries.Count * 96);
        w.Byte(FormatVersion);
        w.Varint((ulong)sortedEntries.Count);
        for (var i = 0; i < sortedEntries.Count; i++)
        {
            if (i > 0 && sortedEntries[i - 1].Name.AsSpan().SequenceCompareTo(sortedEntries[i].Name) >= 0)
            {
                throw new ArgumentException("tree entries must be sorted by name and unique", nameof(sortedEntries));
            }

            WriteEntry(w, sortedEntries[i]);
        }

        return w.ToArray();
    }

    public static List<TreeEntry> Decode(ReadOnlySpan<byte> data)
    {
        var r = new ByteReader(data);
        var version = r.Byte();
        if (version != FormatVersion)
        {
            throw new CorruptObjectException($"tree format {version} is not known (this sidus reads {FormatVersion})");
        }

        var count = r.Length(MaxEntries);
        var entries = new List<TreeEntry>(count);
        byte[]? previous = null;
        for (var i = 0; i < count; i++)
        {
            var entry = ReadEntry(ref r);
            ValidateName(entry.Name);
            if (previous is not null && previous.AsSpan().SequenceCompareTo(entry.Name) >= 0)
            {
                throw new CorruptObjectException("tree entries out of order");
            }

            previous = entry.Name;
            entries.Add(entry);
        }

        r.ExpectEnd();
        return entries;
    }

    internal static void WriteEntry(ByteWriter w, TreeEntry e)
    {
        w.Bytes(e.Name);
        w.Byte((byte)e.Kind);
        w.Varint(e.Permissions);
        w.Varint(e.Uid);
        w.Varint(e.Gid);
        w.SignedVarint(e.MtimeSeconds);
        w.Varint(e.MtimeNanoseconds);
        w.Varint((ulong)e.Xattrs.Count);
        foreach (var (name, value) in e.Xattrs)
        {
            w.Bytes(name);
            w.Bytes(value);
        }

        switch (e.Kind)
        {
            case FileKind.Regular:
                w.Varint(e.LinkGroup);
                w.Varint((ulong)e.Size);
                if (e.Extents is null)
                {
                    w.Varint(0);
                }
                else
                {
                    w.Varint((ulong)e.Extents.Count + 1);
                    foreach (var extent in e.Extents)
                    {
                        w.Varint((ulong)extent.Offset);
                        w.Varint((ulong)extent.Length);
                    }
                }

                if (e.DataLength > 0)
                {
                    w.Id(e.Content);
                }

                break;
            case FileKind.Directory:
                w.Id(e.Tree);
                break;
            case FileKind.Symlink:
                w.Varint(e.LinkGroup);
                w.Bytes(e.Target ?? []);
                break;
            case FileKind.CharDevice:
            case FileKind.BlockDevice:
                w.Varint(e.LinkGroup);
                w.Varint(e.RdevMajor);
                w.Varint(e.RdevMinor);
                break;
            default:
                w.Varint(e.LinkGroup);
                break;
        }
    }

    internal static TreeEntry ReadEntry(ref ByteReader r)
    {
        var name = r.Bytes(MaxNameLength).ToArray();
        var kind = (FileKind)r.Byte();
        if (kind is < FileKind.Regular or > FileKind.Socket)
        {
            throw new CorruptObjectException($"unknown file kind {(byte)kind}");
        }

        var entry = new TreeEntry
        {
            Name = name,
            Kind = kind,
            Permissions = r.UInt32Varint(),
            Uid = r.UInt32Varint(),
            Gid = r.UInt32Varint(),
            MtimeSeconds = r.SignedVarint(),
            MtimeNanoseconds = r.UInt32Varint(),
        };
        if (entry.Permissions > 0xFFF || entry.MtimeNanoseconds >= 1_000_000_000)
        {
            throw new CorruptObjectException("entry mode or time out of range");
        }

        var xattrCount = r.Length(65536);
        if (xattrCount > 0)
        {
            var xattrs = new List<KeyValuePair<byte[], byte[]>>(xattrCount);
            for (var i = 0; i < xattrCount; i++)
            {
                var key = r.Bytes(MaxXattrNameLength).ToArray();
                var value = r.Bytes(MaxXattrValueLength).ToArray();
                xattrs.Add(new(key, value));
            }

            entry.Xattrs = xattrs;
        }

        switch (kind)
        {
            case FileKind.Regular:
                entry.LinkGroup = r.UInt32Varint();
                entry.Size = checked((long)r.Varint());
                var extentField = r.Length(MaxExtents + 1);
                if (extentField > 0)
                {
                    var extents = new List<Extent>(extentField - 1);
                    for (var i = 0; i < extentField - 1; i++)
                    {
                        extents.Add(new Extent(checked((long)r.Varint()), checked((long)r.Varint())));
                    }

                    entry.Extents = extents;
                }

                if (entry.DataLength > 0)
                {
                    entry.Content = r.Id();
                }

                break;
            case FileKind.Directory:
                entry.Tree = r.Id();
                break;
            case FileKind.Symlink:
                entry.LinkGroup = r.UInt32Varint();
                entry.Target = r.Bytes(MaxTargetLength).ToArray();
                break;
            case FileKind.CharDevice:
            case FileKind.BlockDevice:
                entry.LinkGroup = r.UInt32Varint();
                entry.RdevMajor = r.UInt32Varint();
                entry.RdevMinor = r.UInt32Varint();
                break;
            default:
                entry.LinkGroup = r.UInt32Varint();
                break;
        }

        return entry;
    }

    /// <summary>A stored name must be one path component: never empty, ".", "..", or containing '/' or NUL.</summary>
    public static void ValidateName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.SequenceEqual("."u8) || name.SequenceEqual(".."u8) ||
            name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw new CorruptObjectException($"invalid file name '{LinuxException.Printable(name)}' in a tree");
        }
    }
}
