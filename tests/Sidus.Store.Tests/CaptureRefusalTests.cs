using System.Diagnostics;
using System.Text;
using Sidus.Store.Capture;
using Sidus.Store.Objects;
using Sidus.Store.Trees;
using Sidus.Store.Tests.Support;
using static Sidus.Store.Tests.Support.ScriptedWalker;

namespace Sidus.Store.Tests;

/// <summary>
/// The server treats a walker's output as hostile (issue 10, "Safety"): each bad stream below, written by hand as a
/// compromised or broken client could send it, is refused with a message saying what was wrong, and the store is
/// exactly as it was (same refs, same packs, nothing staged left behind).
/// </summary>
public sealed class CaptureRefusalTests : IDisposable
{
    private const string Image = "golden";
    private static readonly byte[] Kept = "kept data"u8.ToArray();
    private readonly StoreFixture _store = new();

    public CaptureRefusalTests()
    {
        // A store that already holds a version (and its content): a refusal must leave both as they are.
        var first = _store.Dir("first");
        System.IO.File.WriteAllBytes(Path.Combine(first, "keep"), Kept);
        _store.Import(Image, first);
    }

    public void Dispose() => _store.Dispose();

    /// <summary>Each hostile stream, and what the refusal says.</summary>
    public static TheoryData<string> Cases => new(HostileStreams.Keys);

    private static readonly Dictionary<string, (Func<byte[]> Wire, string Message)> HostileStreams = new()
    {
        ["name ..: a path out of the tree"] = (
            () => Tree(File("..", "x"u8.ToArray())).Wire, "the name '..', which no directory can hold"),
        ["name ."] = (() => Tree(Dir(".")).Wire, "the name '.', which no directory can hold"),
        ["name with a slash: an absolute or nested name"] = (
            () => Tree(File("etc/passwd", "x"u8.ToArray())).Wire, "the name 'etc/passwd', which no directory can hold"),
        ["name starting with a slash"] = (
            () => Tree(File("/etc/shadow", "x"u8.ToArray())).Wire, "which no directory can hold"),
        ["empty name"] = (() => Tree(File("", "x"u8.ToArray())).Wire, "which no directory can hold (empty"),
        ["name with NUL"] = (() => Tree(File("a\0b", "x"u8.ToArray())).Wire, "which no directory can hold"),
        ["name of 256 bytes: longer than Linux allows"] = (
            () => Tree(File(new string('n', 256), "x"u8.ToArray())).Wire, "sent 256 for the length of a name (at most 255)"),
        ["path over 4096 bytes"] = (DeepPath, "a path longer than Linux allows (4096 bytes)"),
        ["same name twice"] = (
            () => Tree(File("twin", "a"u8.ToArray()), File("twin", "b"u8.ToArray())).Wire, "sent 'twin' twice in one directory"),
        ["directory as a hard link: a loop"] = (DirectoryLink, "the directory 'loop' as a hard link: a directory loop"),
        ["hard links that differ"] = (DifferentLinks, "sent 'b' as a hard link of a different file"),
        ["unknown record in the tree"] = (
            () => new ScriptedWalker().Hello().Root().Record((byte)'Z').Wire, "a record 'Z' where an entry was expected"),
        ["more ups than directories"] = (
            () => new ScriptedWalker().Hello().Root().Up().Up().Wire, "a record 'U' where an entry was expected"),
        ["entry of unknown kind"] = (
            () => new ScriptedWalker().Hello().Root().Record(CaptureProtocol.EntryRecord).Bytes(99).Wire, "an entry of unknown kind 99"),
        ["permissions out of range"] = (
            () => Tree(new TreeEntry { Name = "f"u8.ToArray(), Kind = Linux.FileKind.Fifo, Permissions = 0x10000 }).Wire, "permissions out of range"),
        ["not a walker"] = (() => new ScriptedWalker().Bytes("Welcome to Ubuntu!\n"u8.ToArray()).Wire, "is not a sidus walker"),
        ["another protocol version"] = (
            () => new ScriptedWalker().Bytes(CaptureProtocol.Magic.ToArray()).Bytes(9).Wire, "the walker speaks capture protocol 9"),
        ["tree without its root"] = (
            () => new ScriptedWalker().Hello().Entry(File("f", "x"u8.ToArray())).Wire, "does not start with its root directory"),
        ["tree ended early"] = (
            () => new ScriptedWalker().Hello().Root().Entry(Dir("etc")).EndTree(2).Wire, "ended its tree early (2 entries received, 2 told, 2 directories still open)"),
        ["tree telling another count"] = (
            () => new ScriptedWalker().Hello().Root().Up().EndTree(7).Wire, "ended its tree early (1 entries received, 7 told"),
        ["holes outside the file"] = (HolesOutside, "holes for 'sparse' that do not fit its size"),
        ["empty file with a content"] = (EmptyWithContent, "'empty' with a content id that does not fit its length"),
        ["block of kind 2"] = (() => Hello().RawWire(2, 5, 5, 1, 2, 3, 4, 5).Wire, "a malformed block (kind 2, 5 bytes in 5)"),
        ["block over 1 MiB"] = (
            () => Hello().RawWire(0, 0x80, 0x80, 0x80, 0x01, 0x80, 0x80, 0x80, 0x01).Wire, "a block of 2097152 bytes (at most 1048576)"),
        ["block of zstd garbage"] = (
            () => Hello().RawWire(1, 100, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10).Wire, "a block that does not decompress"),
        ["content whose hash does not match"] = (
            () => Tree(File("f", "a"u8.ToArray())).Content(ObjectId.Hash("a"u8), "b"u8.ToArray()).End().Wire,
            "the data sent for /f does not match its hash"),
        ["large content whose hash does not match: its chunks already with the workers"] = (
            () => Tree(File("big", Large(1))).Content(ObjectId.Hash(Large(1)), Large(2)).End().Wire,
            "the data sent for /big does not match its hash"),
        ["content not asked for: the store has it"] = (
            () => Tree(File("keep", Kept)).Content(ObjectId.Hash(Kept), Kept).End().Wire, "which was not asked for"),
        ["content of no file in the tree"] = (
            () => Tree(File("f", "a"u8.ToArray())).Content(ObjectId.Hash("z"u8), "z"u8.ToArray()).End().Wire, "which was not asked for"),
        ["content of another length than its entry"] = (
            () => Tree(File("f", "abc"u8.ToArray())).Content(ObjectId.Hash("abc"u8), "abc"u8.ToArray(), told: 1000).End().Wire,
            "sent 1000 bytes for /f, whose tree entry holds 3"),
        ["fewer contents than asked"] = (
            () => Tree(File("a", "a"u8.ToArray()), File("b", "b"u8.ToArray())).Content(ObjectId.Hash("a"u8), "a"u8.ToArray()).End().Wire,
            "the walker ended after 1 of the 2 contents asked for"),
        ["content vanished on the client"] = (
            () => Tree(File("f", "a"u8.ToArray())).Record(CaptureProtocol.VanishedRecord).Bytes(Id("a"u8)).Wire,
            "/f vanished on the client during the capture"),
        ["stops inside the hello"] = (() => new ScriptedWalker().Bytes("SIDUS"u8.ToArray()).Wire, "the walker stopped halfway"),
        ["stops inside the tree"] = (
            () => new ScriptedWalker().Hello().Root().Entry(Dir("etc")).Entry(File("f", "x"u8.ToArray())).Wire, "the walker stopped halfway"),
        ["stops inside an entry"] = (
            () => new ScriptedWalker().Hello().Root().Record(CaptureProtocol.EntryRecord).Bytes((byte)Linux.FileKind.Regular, 10, (byte)'a').Wire,
            "the walker stopped halfway"),
        ["stops inside a content's data"] = (
            () => Tree(File("f", new byte[100])).Bytes(CaptureProtocol.ContentRecord).Bytes(Id(new byte[100])).Bytes(100).Bytes(new byte[50]).Wire,
            "the walker stopped halfway"),
        ["stops before its contents"] = (() => Tree(File("f", "a"u8.ToArray())).Wire, "the walker stopped halfway"),
        ["stops inside a block"] = (() => Cut(Tree(File("f", "a"u8.ToArray())).Wire, 3), "the walker stopped halfway"),
        ["stops inside a block header"] = (() => Hello().RawWire(1, 0x80).Wire, "the walker stopped halfway"),
        ["number that never ends"] = (
            () => new ScriptedWalker().Hello().Root().Up().Record(CaptureProtocol.EndRecord).Bytes(Enumerable.Repeat((byte)0xFF, 12).ToArray()).Wire,
            "a number that never ends"),
        ["walker failure record"] = (
            () => new ScriptedWalker().Hello("web1").Root().Failure("cannot read /etc/shadow: Input/output error").Wire,
            "the walker on web1 failed: cannot read /etc/shadow: Input/output error"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileWalker_IsRefused_AndTheStoreIsUnchanged(string name)
    {
        var (wire, message) = HostileStreams[name];

        var e = Refused(new ScriptedChannel(wire()));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Refusal_ShowsWhatTheClientSaidOnItsWayOut()
    {
        var channel = new ScriptedChannel(new ScriptedWalker().Bytes("SIDUS"u8.ToArray()).Wire, "Connection to golden closed by remote host.\n");

        var e = Refused(channel);

        Assert.Contains("the walker stopped halfway", e.Message);
        Assert.Contains("the client said: Connection to golden closed by remote host.", e.Message);
    }

    [Fact]
    public void TreeThatNeverEnds_IsCutOffAtTheEntryLimit_WithoutReadingOn()
    {
        var endless = new EndlessTree();
        var receiver = new CaptureReceiver(endless, null, maxEntries: 1000);

        var e = Assert.Throws<CaptureRefusedException>(() => receiver.ReceiveTree(CancellationToken.None));

        Assert.Contains("more than 1000 entries", e.Message);
        Assert.Contains("a tree that never ends", e.Message);
        Assert.InRange(endless.EntriesSent, 1000, 1000 + EndlessTree.EntriesPerBlock); // With the root: 1001.
    }

    [Fact]
    public void TreeThatNestsForever_IsCutOffAtLinuxsPathLimit()
    {
        var walker = new ScriptedWalker().Hello().Root();
        for (var depth = 0; depth < 3000; depth++)
        {
            walker.Entry(Dir("d"));
        }

        var receiver = new CaptureReceiver(new MemoryStream(walker.Wire), null);

        var e = Assert.Throws<CaptureRefusedException>(() => receiver.ReceiveTree(CancellationToken.None));

        Assert.Contains("a path longer than Linux allows", e.Message);
        Assert.Equal(1 + 2048, receiver.Entries); // "d/d/.../d": 2048 levels are 4095 bytes, one more is over.
    }

    [Fact]
    public void SymlinkLoopsAndUnusualEntries_FromAWalker_AreKeptAsData()
    {
        // A symlink's target is stored as bytes and never followed (not by the receiver, not by the store), so
        // loops and targets out of the tree are data, as on the client: accepted.
        var wire = new ScriptedWalker().Hello().Root()
            .Entry(Symlink("a", "b")).Entry(Symlink("b", "a")).Entry(Symlink("up", "../../../etc/shadow"))
            .Entry(Dir("usr")).Entry(Symlink("X11", ".")).Up()
            .Up().EndTree(6).End().Wire;
        var channel = new ScriptedChannel(wire);

        var result = ImageCapture.Run(_store.Images, Image, "ssh://golden", channel, new CaptureOptions(), null, CancellationToken.None);

        Assert.True(result.Version!.Created);
        Assert.Equal("golden", result.Host);
        var paths = CaptureTests.Paths(_store.Repository, result.Version.Commit.Root);
        Assert.Equal(["/a", "/b", "/up", "/usr", "/usr/X11"], paths.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("../../../etc/shadow", Encoding.UTF8.GetString(paths["/up"].Target!));
        // The server asked for nothing (no file) and said it recorded the capture.
        Assert.Equal(new byte[] { CaptureProtocol.WantedAnswer, 0, CaptureProtocol.DoneAnswer }, channel.Sent.ToArray()[^3..]);
    }

    [Fact]
    public void ClientThatHangs_IsCutOffAfterTheIdleLimit()
    {
        using var walker = new PipeWalker((input, output, _) =>
        {
            CaptureProtocol.ReadRequest(input);
            return input.ReadByte(); // Says nothing, and waits for ever (until the server's end closes).
        });
        var before = StoreListing.Of(_store.Home);
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<StoreException>(() => ImageCapture.Run(_store.Images, Image, "ssh://golden", walker,
            new CaptureOptions { IdleLimit = TimeSpan.FromSeconds(2) }, null, CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Equal("the client sent nothing for 2 s and was cut off (--timeout); nothing was recorded", e.Message);
        Assert.True(walker.Aborted);
        Assert.Equal(before, StoreListing.Of(_store.Home));
        walker.Finish();
    }

    [Fact]
    public void ClientThatHangsHalfway_IsCutOffAfterTheIdleLimit()
    {
        using var walker = new PipeWalker((input, output, _) =>
        {
            CaptureProtocol.ReadRequest(input);
            output.Write(new ScriptedWalker().Hello().Root().Entry(File("f", "x"u8.ToArray())).Wire);
            output.Flush();
            return input.ReadByte();
        });
        var before = StoreListing.Of(_store.Home);

        var e = Assert.Throws<StoreException>(() => ImageCapture.Run(_store.Images, Image, "ssh://golden", walker,
            new CaptureOptions { IdleLimit = TimeSpan.FromSeconds(2) }, null, CancellationToken.None));

        Assert.Contains("sent nothing for 2 s", e.Message);
        Assert.Equal(before, StoreListing.Of(_store.Home));
        walker.Finish();
    }

    [Fact]
    public void HostileStreams_CutAtEveryByte_AreAllRefusedCleanly()
    {
        // Every prefix of a valid walker's output is a walker stopping halfway: refused as such, never another
        // exception, never a version.
        var wire = Tree(File("a", "alpha"u8.ToArray()), File("b", new byte[300])).Content(ObjectId.Hash("alpha"u8), "alpha"u8.ToArray())
            .Content(ObjectId.Hash(new byte[300]), new byte[300]).End().Wire;
        var before = StoreListing.Of(_store.Home);
        for (var length = 0; length < wire.Length; length++)
        {
            var e = Assert.Throws<StoreException>(() => ImageCapture.Run(_store.Images, Image, "ssh://golden",
                new ScriptedChannel(wire[..length]), new CaptureOptions(), null, CancellationToken.None));
            Assert.True(e.Message.Contains("stopped halfway", StringComparison.Ordinal), $"cut at {length} of {wire.Length}: {e.Message}");
        }

        Assert.Equal(before, StoreListing.Of(_store.Home));
        var whole = ImageCapture.Run(_store.Images, Image, "ssh://golden", new ScriptedChannel(wire), new CaptureOptions(), null, CancellationToken.None);
        Assert.Equal(2, whole.ContentsSent);
    }

    private StoreException Refused(ScriptedChannel channel)
    {
        var before = StoreListing.Of(_store.Home);
        var head = _store.Repository.Refs.Head(Image);

        var e = Assert.Throws<StoreException>(() =>
            ImageCapture.Run(_store.Images, Image, "ssh://golden", channel, new CaptureOptions(), null, CancellationToken.None));

        Assert.Equal(StoreErrorKind.Failure, e.Kind);
        Assert.Contains("othing was recorded", e.Message);
        Assert.True(channel.Aborted, "the server cut the walker off");
        Assert.Equal(head, _store.Repository.Refs.Head(Image));
        Assert.Single(_store.Repository.History(Image));
        Assert.Equal(before, StoreListing.Of(_store.Home));
        return e;
    }

    /// <summary>A root holding ENTRIES, closed and counted, then flushed: what a walker sends before the server's answer.</summary>
    private static ScriptedWalker Tree(params TreeEntry[] entries)
    {
        var walker = new ScriptedWalker().Hello().Root();
        foreach (var entry in entries)
        {
            walker.Entry(entry);
        }

        return walker.Up().EndTree(1 + entries.Length).Block();
    }

    private static ScriptedWalker Hello() => new ScriptedWalker().Hello().Block();

    private static byte[] Id(ReadOnlySpan<byte> data)
    {
        var raw = new byte[ObjectId.Size];
        ObjectId.Hash(data).Write(raw);
        return raw;
    }

    private static byte[] Cut(byte[] wire, int bytes) => wire[..^bytes];

    private static byte[] DeepPath()
    {
        var walker = new ScriptedWalker().Hello().Root();
        for (var depth = 0; depth < 17; depth++)
        {
            walker.Entry(Dir(new string('d', 255))); // 17 * 256 bytes: over 4096.
        }

        return walker.Wire;
    }

    private static byte[] DirectoryLink() =>
        new ScriptedWalker().Hello().Root().Entry(File("f", "x"u8.ToArray()), linkGroup: 1).Entry(Dir("loop"), linkGroup: 1).Wire;

    private static byte[] DifferentLinks() =>
        new ScriptedWalker().Hello().Root().Entry(File("a", "aaa"u8.ToArray()), 1).Entry(File("b", "bbb"u8.ToArray()), 1).Wire;

    private static byte[] HolesOutside()
    {
        var file = File("sparse", "data"u8.ToArray());
        file.Size = 10;
        file.Extents = [new Extent(8, 4)];
        return Tree(file).Wire;
    }

    private static byte[] EmptyWithContent()
    {
        var file = File("empty", []);
        file.Content = ObjectId.Hash("x"u8);
        return Tree(file).Wire;
    }

    /// <summary>A walker that sends entries for ever, a block at a time, as it is read.</summary>
    private sealed class EndlessTree : Sidus.Store.Formats.ReadOnlyStream
    {
        public const int EntriesPerBlock = 100;
        private readonly MemoryStream _pending = new();

        public EndlessTree()
        {
            _pending.Write(new ScriptedWalker().Hello().Root().Wire);
            _pending.Position = 0;
        }

        public long EntriesSent { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            if (_pending.Position == _pending.Length)
            {
                var walker = new ScriptedWalker();
                for (var i = 0; i < EntriesPerBlock; i++)
                {
                    walker.Entry(File($"f{EntriesSent++}", []));
                }

                _pending.SetLength(0);
                _pending.Write(walker.Wire);
                _pending.Position = 0;
            }

            return _pending.Read(buffer);
        }
    }

    /// <summary>3 MiB that no other seed repeats: a content chunked as it arrives.</summary>
    private static byte[] Large(int seed)
    {
        var data = new byte[3 << 20];
        new Random(seed).NextBytes(data);
        return data;
    }
}
