using Sidus.Store.Formats;

namespace Sidus.Store.Capture;

/// <summary>
/// The capture's wire (docs/capture.md, "The wire"): the server sends a request, the walker answers with the tree
/// (every entry, each file's content id), the server names the contents it lacks, the walker sends those. The
/// walker's side travels in compressed blocks (<see cref="BlockWriter"/>); the server's side is small and raw.
/// </summary>
public static class CaptureProtocol
{
    public static ReadOnlySpan<byte> Magic => "SIDUSCAP"u8;
    public const byte Version = 1;

    /// <summary>Raw bytes the walker gathers before it compresses and sends a block.</summary>
    public const int BlockTarget = 256 * 1024;

    /// <summary>The largest block the server accepts (raw or stored).</summary>
    public const int MaxBlock = 1024 * 1024;

    /// <summary>zstd level of the wire: the fastest that still halves a root tree's data.</summary>
    public const int WireLevel = 1;

    /// <summary>zstd level of what a capture compresses itself (chunks of large files, directories, contents whose
    /// block was not kept): the wire's, as the blocks it keeps as they came. Level 6 (the store's) compresses slower
    /// than a gigabit link brings the data (bench/RESULTS.md, "Capture"); level 1 costs about 8 % more space than 3.</summary>
    public const int StoreLevel = WireLevel;

    /// <summary>Linux's PATH_MAX: no path in a tree is longer, so no deeper tree can be real.</summary>
    public const int MaxPathLength = 4096;

    /// <summary>The most entries one capture may send: far above any root filesystem (a full distribution holds a
    /// few million), low enough that a walker which never stops is cut off before the server runs out of memory.</summary>
    public const long MaxEntries = 20_000_000;

    public const int MaxExcludes = 10_000;

    /// <summary>Progress reports (one a second) accepted before the tree: a week of hashing.</summary>
    public const int MaxProgressRecords = 7 * 24 * 3600;
    public const int MaxTextLength = 64 * 1024;
    public const int MaxWanted = (int)(MaxEntries / 4);

    // The request's flags.
    public const byte DryRunFlag = 1;
    public const byte SendAllFlag = 2;

    // Records of the walker's stream.
    public const byte EntryRecord = (byte)'N';
    public const byte UpRecord = (byte)'U';
    public const byte EndRecord = (byte)'E';
    public const byte ContentRecord = (byte)'X';
    public const byte VanishedRecord = (byte)'V';
    public const byte FailureRecord = (byte)'Q';

    /// <summary>Before the tree, once a second: entries walked, files hashed of files found, bytes hashed, bytes read
    /// (the rest came from the state cache).</summary>
    public const byte ProgressRecord = (byte)'P';

    // The server's answers after the tree.
    public const byte WantedAnswer = (byte)'W';
    public const byte DoneAnswer = (byte)'K';

    /// <summary>The server's request: excludes (absolute paths, "/dir/*" for a directory's contents) and what to do.</summary>
    public static void WriteRequest(Stream output, CaptureRequest request)
    {
        var w = new ByteWriter(4096);
        w.Raw(Magic);
        w.Byte(Version);
        w.Byte((byte)((request.DryRun ? DryRunFlag : 0) | (request.SendAll ? SendAllFlag : 0)));
        w.Varint((ulong)request.Excludes.Count);
        foreach (var exclude in request.Excludes)
        {
            w.Bytes(Encoding.UTF8.GetBytes(exclude));
        }

        output.Write(w.WrittenSpan);
        output.Flush();
    }

    public static CaptureRequest ReadRequest(Stream input)
    {
        var reader = new RecordReader(input, "the server");
        Span<byte> magic = stackalloc byte[Magic.Length];
        reader.Raw(magic);
        if (!magic.SequenceEqual(Magic))
        {
            throw new CaptureRefusedException("the server's request does not start as a capture request");
        }

        var version = reader.Byte();
        if (version != Version)
        {
            throw new CaptureRefusedException($"the server speaks capture protocol {version}, this walker {Version}: use the walker of the same sidus");
        }

        var flags = reader.Byte();
        var count = reader.Length(MaxExcludes, "excludes");
        var excludes = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            excludes.Add(Encoding.UTF8.GetString(reader.Bytes(MaxPathLength, "an exclude")));
        }

        return new CaptureRequest(excludes, (flags & DryRunFlag) != 0, (flags & SendAllFlag) != 0);
    }

    /// <summary>The walker's first words: who it runs on, for the version's message.</summary>
    public static void WriteHello(Stream output, string host)
    {
        var w = new ByteWriter(256);
        w.Raw(Magic);
        w.Byte(Version);
        w.Bytes(Encoding.UTF8.GetBytes(host));
        output.Write(w.WrittenSpan);
    }

    public static string ReadHello(RecordReader reader)
    {
        Span<byte> magic = stackalloc byte[Magic.Length];
        reader.Raw(magic);
        if (!magic.SequenceEqual(Magic))
        {
            throw new CaptureRefusedException("the program on the client is not a sidus walker (its output does not start as one)");
        }

        var version = reader.Byte();
        return version == Version
            ? Encoding.UTF8.GetString(reader.Bytes(255, "the client's name"))
            : throw new CaptureRefusedException($"the walker speaks capture protocol {version}, this server {Version}");
    }

    /// <summary>One entry of the tree. A directory's children follow it, closed by <see cref="UpRecord"/>.</summary>
    public static void WriteEntry(ByteWriter w, TreeEntry entry, uint linkGroup)
    {
        w.Byte(EntryRecord);
        w.Byte((byte)entry.Kind);
        w.Bytes(entry.Name);
        w.Varint(entry.Permissions);
        w.Varint(entry.Uid);
        w.Varint(entry.Gid);
        w.SignedVarint(entry.MtimeSeconds);
        w.Varint(entry.MtimeNanoseconds);
        w.Varint((ulong)entry.Xattrs.Count);
        foreach (var (name, value) in entry.Xattrs)
        {
            w.Bytes(name);
            w.Bytes(value);
        }

        w.Varint(linkGroup);
        switch (entry.Kind)
        {
            case FileKind.Regular:
                w.Varint((ulong)entry.Size);
                w.Id(entry.Content);
                // As in the store's trees: 0 for a file without holes, else the count of data extents plus one
                // (a file that is all holes has an empty list, not none).
                w.Varint(entry.Extents is null ? 0 : (ulong)entry.Extents.Count + 1);
                foreach (var extent in entry.Extents ?? [])
                {
                    w.Varint((ulong)extent.Offset);
                    w.Varint((ulong)extent.Length);
                }

                break;
            case FileKind.Symlink:
                w.Bytes(entry.Target);
                break;
            case FileKind.CharDevice or FileKind.BlockDevice:
                w.Varint(entry.RdevMajor);
                w.Varint(entry.RdevMinor);
                break;
        }
    }

    /// <summary>Reads an entry's fields (its record byte already read), refusing what no Linux tree can hold.</summary>
    public static (TreeEntry Entry, uint LinkGroup) ReadEntry(RecordReader r)
    {
        var kindByte = r.Byte();
        if (kindByte is < (byte)FileKind.Regular or > (byte)FileKind.Socket)
        {
            throw new CaptureRefusedException($"the walker sent an entry of unknown kind {kindByte}");
        }

        var kind = (FileKind)kindByte;
        var name = r.Bytes(TreeCodec.MaxNameLength, "a name");
        var entry = new TreeEntry
        {
            Name = name,
            Kind = kind,
            Permissions = CheckedUInt(r.Varint(), 0xFFF, "permissions"),
            Uid = CheckedUInt(r.Varint(), uint.MaxValue, "a uid"),
            Gid = CheckedUInt(r.Varint(), uint.MaxValue, "a gid"),
            MtimeSeconds = r.SignedVarint(),
            MtimeNanoseconds = CheckedUInt(r.Varint(), 999_999_999, "a time's nanoseconds"),
        };
        var xattrCount = r.Length(4096, "extended attributes");
        var xattrs = new List<KeyValuePair<byte[], byte[]>>(xattrCount);
        for (var i = 0; i < xattrCount; i++)
        {
            xattrs.Add(new(r.Bytes(TreeCodec.MaxXattrNameLength, "an attribute name"), r.Bytes(TreeCodec.MaxXattrValueLength, "an attribute value")));
        }

        entry.Xattrs = xattrs;
        var linkGroup = CheckedUInt(r.Varint(), uint.MaxValue, "a link group");
        switch (kind)
        {
            case FileKind.Regular:
                entry.Size = (long)CheckedLong(r.Varint(), long.MaxValue, "a size");
                entry.Content = r.Id();
                var extentField = r.Length(TreeCodec.MaxExtents + 1, "extents");
                if (extentField > 0)
                {
                    var list = new List<Extent>(Math.Min(extentField - 1, 4096));
                    for (var i = 0; i < extentField - 1; i++)
                    {
                        list.Add(new Extent((long)CheckedLong(r.Varint(), long.MaxValue, "an extent"), (long)CheckedLong(r.Varint(), long.MaxValue, "an extent")));
                    }

                    entry.Extents = list;
                }

                break;
            case FileKind.Symlink:
                entry.Target = r.Bytes(TreeCodec.MaxTargetLength, "a symlink's target");
                break;
            case FileKind.CharDevice or FileKind.BlockDevice:
                entry.RdevMajor = CheckedUInt(r.Varint(), uint.MaxValue, "a device number");
                entry.RdevMinor = CheckedUInt(r.Varint(), uint.MaxValue, "a device number");
                break;
        }

        return (entry, linkGroup);
    }

    private static uint CheckedUInt(ulong value, uint max, string what) =>
        value <= max ? (uint)value : throw new CaptureRefusedException($"the walker sent {what} out of range ({value})");

    private static long CheckedLong(ulong value, long max, string what) =>
        value <= (ulong)max ? (long)value : throw new CaptureRefusedException($"the walker sent {what} out of range ({value})");
}

/// <summary>What the server asks of the walker. SEND_ALL: every content right after the tree, in the order the tree
/// first names them, without waiting for a wanted list (a one-way stream: a node's overlay posted over HTTP).</summary>
public sealed record CaptureRequest(IReadOnlyList<string> Excludes, bool DryRun, bool SendAll = false);

/// <summary>The client sent what the server will not take; nothing was recorded.</summary>
public sealed class CaptureRefusedException(string message) : StoreException(message, StoreErrorKind.Failure);

/// <summary>
/// Reads the capture's records from a stream: every length capped before anything is allocated, and the stream's
/// end inside a record reported as the client stopping halfway.
/// </summary>
public sealed class RecordReader(Stream input, string peer)
{
    public byte Byte()
    {
        var b = input.ReadByte();
        return b >= 0 ? (byte)b : throw Stopped();
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Byte();
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new CaptureRefusedException($"{peer} sent a number that never ends");
    }

    public long SignedVarint()
    {
        var raw = Varint();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int Length(int max, string what)
    {
        var value = Varint();
        return value <= (ulong)max ? (int)value : throw new CaptureRefusedException($"{peer} sent {value} for the length of {what} (at most {max})");
    }

    public byte[] Bytes(int max, string what)
    {
        var data = new byte[Length(max, what)];
        Raw(data);
        return data;
    }

    public ObjectId Id()
    {
        Span<byte> raw = stackalloc byte[ObjectId.Size];
        Raw(raw);
        return ObjectId.Read(raw);
    }

    public void Raw(Span<byte> destination)
    {
        try
        {
            input.ReadExactly(destination);
        }
        catch (EndOfStreamException)
        {
            throw Stopped();
        }
    }

    private CaptureRefusedException Stopped() => new($"{peer} stopped halfway (its output ended inside the capture)");
}
