namespace Sidus.Store.Trees;

/// <summary>One image version: the root directory, where it came from, and a summary of what it holds.</summary>
public sealed record Commit
{
    public const byte FormatVersion = 1;

    public required string Image { get; init; }
    public required long Sequence { get; init; }
    public ObjectId? Parent { get; init; }

    /// <summary>The root directory's own metadata; its <see cref="TreeEntry.Tree"/> is the root tree.</summary>
    public required TreeEntry Root { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Message { get; init; }
    public required string Author { get; init; }
    public long Files { get; init; }
    public long Entries { get; init; }

    /// <summary>Bytes of file data in the version (the sum of regular file sizes, each hardlink group once).</summary>
    public long LogicalBytes { get; init; }

    public byte[] Encode()
    {
        var w = new ByteWriter();
        w.Byte(FormatVersion);
        w.Bytes(Encoding.UTF8.GetBytes(Image));
        w.Varint((ulong)Sequence);
        w.Byte(Parent is null ? (byte)0 : (byte)1);
        if (Parent is { } parent)
        {
            w.Id(parent);
        }

        TreeCodec.WriteEntry(w, Root);
        w.SignedVarint(Time.ToUnixTimeMilliseconds() * 1_000_000 + (Time.Ticks % TimeSpan.TicksPerMillisecond * 100));
        w.Bytes(Encoding.UTF8.GetBytes(Message));
        w.Bytes(Encoding.UTF8.GetBytes(Author));
        w.Varint((ulong)Files);
        w.Varint((ulong)Entries);
        w.Varint((ulong)LogicalBytes);
        return w.ToArray();
    }

    public static Commit Decode(ReadOnlySpan<byte> data)
    {
        var r = new ByteReader(data);
        var version = r.Byte();
        if (version != FormatVersion)
        {
            throw new CorruptObjectException($"commit format {version} is not known (this sidus reads {FormatVersion})");
        }

        var image = Encoding.UTF8.GetString(r.Bytes(256));
        var sequence = (long)r.Varint();
        ObjectId? parent = r.Byte() switch
        {
            0 => null,
            1 => r.Id(),
            _ => throw new CorruptObjectException("bad parent flag"),
        };
        var root = TreeCodec.ReadEntry(ref r);
        if (root.Kind != FileKind.Directory)
        {
            throw new CorruptObjectException("commit root is not a directory");
        }

        var ns = r.SignedVarint();
        var time = DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).AddTicks(ns % 1_000_000 / 100);
        var commit = new Commit
        {
            Image = image,
            Sequence = sequence,
            Parent = parent,
            Root = root,
            Time = time,
            Message = Encoding.UTF8.GetString(r.Bytes(64 * 1024)),
            Author = Encoding.UTF8.GetString(r.Bytes(1024)),
            Files = (long)r.Varint(),
            Entries = (long)r.Varint(),
            LogicalBytes = (long)r.Varint(),
        };
        r.ExpectEnd();
        return commit;
    }
}
