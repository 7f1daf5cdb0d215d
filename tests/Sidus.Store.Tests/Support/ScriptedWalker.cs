using System.Text;
using Sidus.Linux;
using Sidus.Store.Capture;
using Sidus.Store.Objects;
using Sidus.Store.Trees;
using Sidus.Store.Formats;

namespace Sidus.Store.Tests.Support;

/// <summary>
/// Writes a walker's output by hand, record by record, in the wire's blocks: what a hostile or broken walker could
/// send. <see cref="Wire"/> is the bytes as they travel; <see cref="Block"/> and <see cref="RawWire"/> let a test
/// break the blocks themselves.
/// </summary>
public sealed class ScriptedWalker
{
    private readonly MemoryStream _wire = new();
    private readonly BlockWriter _blocks;
    private readonly ByteWriter _records = new(4096);

    public ScriptedWalker() => _blocks = new BlockWriter(_wire);

    public ScriptedWalker Hello(string host = "golden")
    {
        _blocks.Write(_records.WrittenSpan);
        _records.Clear();
        CaptureProtocol.WriteHello(_blocks, host);
        return this;
    }

    public ScriptedWalker Entry(TreeEntry entry, uint linkGroup = 0)
    {
        CaptureProtocol.WriteEntry(_records, entry, linkGroup);
        return this;
    }

    public ScriptedWalker Root() => Entry(Dir([]));

    public ScriptedWalker Up() => Record(CaptureProtocol.UpRecord);

    /// <summary>The tree's end, telling COUNT entries.</summary>
    public ScriptedWalker EndTree(long count)
    {
        _records.Byte(CaptureProtocol.EndRecord);
        _records.Varint((ulong)count);
        return this;
    }

    /// <summary>A content record for ID holding DATA (whether or not DATA hashes to ID).</summary>
    public ScriptedWalker Content(ObjectId id, byte[] data, long? told = null)
    {
        _records.Byte(CaptureProtocol.ContentRecord);
        _records.Id(id);
        _records.Varint((ulong)(told ?? data.Length));
        _records.Raw(data);
        return this;
    }

    public ScriptedWalker End() => Record(CaptureProtocol.EndRecord);

    public ScriptedWalker Failure(string message)
    {
        _records.Byte(CaptureProtocol.FailureRecord);
        _records.Bytes(Encoding.UTF8.GetBytes(message));
        return this;
    }

    public ScriptedWalker Record(byte record)
    {
        _records.Byte(record);
        return this;
    }

    public ScriptedWalker Bytes(params byte[] raw)
    {
        _records.Raw(raw);
        return this;
    }

    /// <summary>Sends what is gathered as one block (a walker flushes after its tree).</summary>
    public ScriptedWalker Block()
    {
        _blocks.Write(_records.WrittenSpan);
        _blocks.Flush();
        _records.Clear();
        return this;
    }

    /// <summary>Bytes put on the wire as they are, outside any block.</summary>
    public ScriptedWalker RawWire(params byte[] raw)
    {
        Block();
        _wire.Write(raw);
        return this;
    }

    /// <summary>Everything written, in blocks.</summary>
    public byte[] Wire
    {
        get
        {
            Block();
            return _wire.ToArray();
        }
    }

    public static TreeEntry Dir(string name) => Dir(Encoding.UTF8.GetBytes(name));

    public static TreeEntry Dir(byte[] name) => new() { Name = name, Kind = FileKind.Directory, Permissions = 0x1ed };

    public static TreeEntry File(string name, byte[] data) => File(Encoding.UTF8.GetBytes(name), data);

    public static TreeEntry File(byte[] name, byte[] data) => new()
    {
        Name = name,
        Kind = FileKind.Regular,
        Permissions = 0x1a4,
        Size = data.Length,
        Content = data.Length == 0 ? ObjectId.Zero : ObjectId.Hash(data),
    };

    public static TreeEntry Symlink(string name, string target) => new()
    {
        Name = Encoding.UTF8.GetBytes(name),
        Kind = FileKind.Symlink,
        Permissions = 0x1ff,
        Target = Encoding.UTF8.GetBytes(target),
    };
}

/// <summary>A channel whose walker's output is given in advance; what the server sends is kept in <see cref="Sent"/>.</summary>
public sealed class ScriptedChannel(Stream fromWalker, string errors = "") : ICaptureChannel
{
    public ScriptedChannel(byte[] wire, string errors = "") : this(new MemoryStream(wire), errors)
    {
    }

    public Stream FromWalker { get; } = fromWalker;

    public MemoryStream Sent { get; } = new();

    public Stream ToWalker => Sent;

    public long IdleMilliseconds => 0;

    public string Errors { get; } = errors;

    public bool Aborted { get; private set; }

    public void Abort() => Aborted = true;
}
