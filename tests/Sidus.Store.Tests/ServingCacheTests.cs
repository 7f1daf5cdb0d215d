using System.Buffers.Binary;
using Sidus.Store.Compression;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// The serving cache's promise: each content is hashed once per process; what a pack damaged AFTER that check
/// leads to is exactly what ServingCache documents; a freshly opened store (a new server process) refuses it.
/// </summary>
public sealed class ServingCacheTests : IDisposable
{
    private const int SkippableFrameMagic = 0x184D2A50;
    private const int SkippableHeaderLength = 8;
    private readonly StoreFixture _store = new();
    private readonly byte[] _data = FormatTests.XorShiftBytes(200_000);
    private readonly ObjectId _id;

    public ServingCacheTests()
    {
        var source = _store.Dir("source");
        File.WriteAllBytes(Path.Combine(source, "kernel"), _data);
        _store.Import("img", source);
        _id = ObjectId.Hash(_data);
    }

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task VerifyAsync_SecondRequest_DoesNotHashAgain()
    {
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server);
        await cache.VerifyAsync(_id, CancellationToken.None);
        Assert.Equal(_data, SendOnFreshThread(cache, _id));
        await cache.VerifyAsync(_id, CancellationToken.None);
        Assert.Equal(_data, SendOnFreshThread(cache, _id));
        Assert.Equal(1, cache.Checks);
        Assert.True(cache.Verified.Contains(_id));
    }

    [Fact]
    public async Task VerifyAsync_ManyAtOnce_HashesOnce()
    {
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server, frameBytes: 0);
        using var go = new ManualResetEventSlim();
        var all = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            go.Wait(TimeSpan.FromSeconds(10));
            await cache.VerifyAsync(_id, CancellationToken.None);
        })).ToArray();
        go.Set();
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, cache.Checks);
    }

    [Fact]
    public async Task VerifyAsync_PackReadFailsWithEio_EveryRequestAtOnceGetsCorrupt()
    {
        // A real EIO from the pack's read (RandomAccess.Read): /proc/self/mem where nothing is mapped fails as a bad
        // disk does.
        var (pack, _) = Locate(_store.Home, _id);
        File.Delete(pack);
        File.CreateSymbolicLink(pack, "/proc/self/mem");
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server, frameBytes: 0);
        using var go = new ManualResetEventSlim();
        var all = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            go.Wait(TimeSpan.FromSeconds(10));
            return await Record.ExceptionAsync(() => cache.VerifyAsync(_id, CancellationToken.None));
        })).ToArray();
        go.Set();

        // A request waiting on the check that failed must not wait for ever.
        var errors = await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(errors, e =>
        {
            var corrupt = Assert.IsType<CorruptObjectException>(e);
            Assert.Contains($"content {_id} cannot be read: ", corrupt.Message, StringComparison.Ordinal);
            Assert.IsType<IOException>(corrupt.InnerException);
        });
        Assert.False(cache.Verified.Contains(_id));
    }

    [Fact]
    public async Task Read_PackRewrittenWithValidFrameAfterCheck_SameProcessSendsItAndFreshProcessRefuses()
    {
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server, frameBytes: 0);
        await cache.VerifyAsync(_id, CancellationToken.None);
        Assert.Equal(_data, SendOnFreshThread(cache, _id));

        RewriteFrameWithZeroedObject(_store.Home, _id);

        // Documented window: verified once, not again; a frame that still decompresses is sent as it now is. The
        // node's own hash check (the agent's, here SHA-256 of what was sent) is what refuses it.
        var sent = SendOnFreshThread(cache, _id);
        Assert.Equal(_data.Length, sent.Length);
        Assert.NotEqual(_id, ObjectId.Hash(sent));

        using var restarted = Repository.Open(_store.Home);
        var fresh = new ServingCache(restarted);
        var error = await Assert.ThrowsAsync<CorruptObjectException>(() => fresh.VerifyAsync(_id, CancellationToken.None));
        Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
        Assert.Throws<CorruptObjectException>(() => SendOnFreshThread(fresh, _id));
        Assert.False(fresh.Verified.Contains(_id));
    }

    [Fact]
    public async Task Read_PackRewrittenAfterCheck_FrameStillInMemory_SendsTheVerifiedBytes()
    {
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server);
        await cache.VerifyAsync(_id, CancellationToken.None);
        RewriteFrameWithZeroedObject(_store.Home, _id);
        Assert.Equal(_data, SendOnFreshThread(cache, _id));
    }

    [Fact]
    public async Task Read_ByteFlippedOnDiskAfterCheck_ZstdChecksumStopsIt()
    {
        using var server = Repository.Open(_store.Home);
        var cache = new ServingCache(server, frameBytes: 0);
        await cache.VerifyAsync(_id, CancellationToken.None);
        var (pack, record) = Locate(_store.Home, _id);
        using (var stream = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = record.FrameOffset + (record.FrameLength / 2);
            var b = stream.ReadByte();
            stream.Position -= 1;
            stream.WriteByte((byte)(b ^ 0x55));
        }

        Assert.Throws<CorruptObjectException>(() => SendOnFreshThread(cache, _id));
    }

    [Fact]
    public async Task WriteContents_ManyNodesAtOnce_CompressEachContentOnce_SameBytes()
    {
        var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a line of a config file\n", 4000)));
        var source = _store.Dir("text");
        File.WriteAllBytes(Path.Combine(source, "notes"), text);
        _store.Import("text", source);
        var ids = new[] { ObjectId.Hash(text), _id };
        using var server = Repository.Open(_store.Home);

        var cache = new ServingCache(server);
        using var go = new ManualResetEventSlim();
        var nodes = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            go.Wait(TimeSpan.FromSeconds(10));
            using var output = new MemoryStream();
            await ContentServer.WriteContentsAsync(cache, ids, zstd: true, output, CancellationToken.None);
            return output.ToArray();
        })).ToArray();
        go.Set();
        var answers = await Task.WhenAll(nodes).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, cache.Compressed.Made);
        Assert.Equal(30, cache.Compressed.Reused);
        Assert.All(answers, a => Assert.Equal(answers[0], a));
        var (_, length, encoding, sent) = Sidus.Wire.Contracts.ContentsFrame.ReadHeader(answers[0]);
        Assert.Equal((text.Length, Sidus.Wire.Contracts.ContentsFrame.Zstd), (length, encoding));
        var unpacked = new byte[text.Length];
        Zstd.Decompress(answers[0].AsSpan(Sidus.Wire.Contracts.ContentsFrame.HeaderLength, (int)sent), unpacked);
        Assert.Equal(text, unpacked);

        // A cache too small to keep anything: the same answer, compressed each time.
        var tiny = new ServingCache(server, compressedBytes: 1);
        for (var i = 0; i < 3; i++)
        {
            using var output = new MemoryStream();
            await ContentServer.WriteContentsAsync(tiny, ids, zstd: true, output, CancellationToken.None);
            Assert.Equal(answers[0], output.ToArray());
        }

        Assert.Equal(6, tiny.Compressed.Made);
        Assert.Equal(0, tiny.Compressed.Bytes);
    }

    [Fact]
    public void VerifiedIdSet_Full_StartsAgainEmpty()
    {
        var set = new VerifiedIdSet(2);
        set.Add(ObjectId.Hash([1]));
        set.Add(ObjectId.Hash([2]));
        set.Add(ObjectId.Hash([3]));
        Assert.Equal(1, set.Count);
        Assert.Equal(1, set.Resets);
        Assert.True(set.Contains(ObjectId.Hash([3])));
        Assert.False(set.Contains(ObjectId.Hash([1])));
    }

    /// <summary>Sends ID's data as the server does, on a new thread (so no per-thread frame is reused).</summary>
    private static byte[] SendOnFreshThread(ServingCache cache, ObjectId id)
    {
        byte[]? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var output = new MemoryStream();
                ContentServer.WriteContentAsync(cache, id, output, CancellationToken.None).GetAwaiter().GetResult();
                result = output.ToArray();
            }
            catch (StoreException e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "sending did not finish");
        return failure is not null ? throw failure : result!;
    }

    private static (string Pack, IndexRecord Record) Locate(string home, ObjectId id)
    {
        foreach (var idx in Directory.GetFiles(Path.Combine(home, "store", "packs"), "*.idx"))
        {
            var name = Path.GetFileNameWithoutExtension(idx);
            foreach (var record in PackFormat.DecodeIndex(File.ReadAllBytes(idx), name))
            {
                if (record.Id == id)
                {
                    return (Path.ChangeExtension(idx, ".pack"), record);
                }
            }
        }

        throw new InvalidOperationException("object not found in any pack");
    }

    /// <summary>
    /// Tampering no checksum of the pack can see: the frame is replaced in place by a valid zstd frame whose object
    /// bytes are zeros, padded to the same length with a zstd skippable frame.
    /// </summary>
    private static void RewriteFrameWithZeroedObject(string home, ObjectId id)
    {
        var (pack, record) = Locate(home, id);
        using var stream = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite);
        var compressed = new byte[record.FrameLength];
        stream.Position = record.FrameOffset;
        stream.ReadExactly(compressed);
        var raw = new byte[record.FrameRawLength];
        Zstd.Decompress(compressed, raw);
        raw.AsSpan(record.Offset, record.Length).Clear();
        var forged = Zstd.Compress(raw);
        var padding = record.FrameLength - forged.Length - SkippableHeaderLength;
        Assert.True(padding >= 0, "the forged frame must fit in the old one");
        var replacement = new byte[record.FrameLength];
        forged.CopyTo(replacement, 0);
        BinaryPrimitives.WriteInt32LittleEndian(replacement.AsSpan(forged.Length), SkippableFrameMagic);
        BinaryPrimitives.WriteInt32LittleEndian(replacement.AsSpan(forged.Length + 4), padding);
        stream.Position = record.FrameOffset;
        stream.Write(replacement);
    }
}
