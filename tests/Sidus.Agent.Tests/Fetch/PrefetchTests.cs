using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Sidus.Agent.Fetch;
using Sidus.Store.Objects;
using Sidus.Store.Sync;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Tests.Fetch;

/// <summary>
/// The early transfer of an update's contents (<see cref="MissingContentSource.Prefetch"/>) against a real HTTP server
/// on loopback: what the prefetch brought is written once, what it failed to bring (its answer cut halfway) is asked
/// for again, and what the sync does not want is never written.
/// </summary>
public sealed class PrefetchTests : IDisposable
{
    private const int Count = 40;
    private readonly HttpListener _listener = new();
    private readonly string _url;
    private readonly Dictionary<ObjectId, byte[]> _contents = [];
    private readonly ConcurrentQueue<int> _asked = new();
    private int _answers;
    private int _answered;
    private volatile bool _cutFirst;

    public PrefetchTests()
    {
        for (var i = 0; i < Count; i++)
        {
            var data = RandomNumberGenerator.GetBytes(1000 + (i * 97));
            _contents[ObjectId.Read(SHA256.HashData(data))] = data;
        }

        _url = HttpListenerLoop.StartOnLoopback(_listener, AnswerAsync).Url;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }

    /// <summary>Raw frames of the ids asked for; the first answer stops after half of them when told to.</summary>
    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var (ids, _) = ContentsRequest.Decode(body.ToArray());
        _asked.Enqueue(ids.Count);
        var cut = Interlocked.Increment(ref _answers) == 1 && _cutFirst ? ids.Count / 2 : ids.Count;
        var header = new byte[ContentsFrame.HeaderLength];
        try
        {
            foreach (var id in ids.Take(cut))
            {
                var data = _contents[ObjectId.Read(id)];
                ContentsFrame.WriteHeader(header, id, data.Length, ContentsFrame.Raw, data.Length);
                await context.Response.OutputStream.WriteAsync(header);
                await context.Response.OutputStream.WriteAsync(data);
            }

            if (cut < ids.Count)
            {
                context.Response.Abort();
                return;
            }

            context.Response.Close();
            Interlocked.Increment(ref _answered);
        }
        catch (HttpListenerException)
        {
            // The agent went away: nothing to answer.
        }
    }

    private List<ContentWant> Wants => [.. _contents.Select(c => new ContentWant(c.Key, c.Value.Length))];

    private static IReadOnlyList<ManifestEntry> Entries => [];

    private async Task<ConcurrentDictionary<ObjectId, int>> DeliverAsync(MissingContentSource source, IReadOnlyList<ContentWant> wanted)
    {
        var written = new ConcurrentDictionary<ObjectId, int>();
        await source.DeliverAsync(wanted, (id, pieces) =>
        {
            var data = pieces.SelectMany(p => p.ToArray()).ToArray();
            Assert.Equal(_contents[id], data);
            written.AddOrUpdate(id, 1, (_, n) => n + 1);
        }, CancellationToken.None);
        return written;
    }

    [Fact]
    public async Task PrefetchedContents_WrittenOnceEach_NoSecondRequest()
    {
        using var http = new HttpClient();
        using var source = new MissingContentSource(http, _url, new string('a', 64), Entries);
        source.Prefetch(Wants);
        // Asked for before the sync says what it wants: the delivery then makes no request of its own.
        for (var wait = 0; _asked.IsEmpty && wait < 300; wait++)
        {
            await Task.Delay(100);
        }

        var written = await DeliverAsync(source, Wants);

        Assert.Equal(Count, written.Count);
        Assert.All(written.Values, n => Assert.Equal(1, n));
        Assert.Equal([Count], _asked.ToArray());
    }

    [Fact]
    public async Task PrefetchCutHalfway_TheRestAskedForAgain_EachWrittenOnce()
    {
        _cutFirst = true;
        using var http = new HttpClient();
        using var source = new MissingContentSource(http, _url, new string('a', 64), Entries);
        source.Prefetch(Wants);
        var written = await DeliverAsync(source, Wants);

        Assert.Equal(Count, written.Count);
        Assert.All(written.Values, n => Assert.Equal(1, n));
        Assert.Equal([Count, Count / 2], _asked.ToArray());
    }

    [Fact]
    public async Task ContentsTheSyncDoesNotWant_NeverWritten_MissingOnesFetched()
    {
        using var http = new HttpClient();
        using var source = new MissingContentSource(http, _url, new string('a', 64), Entries);
        var all = Wants;
        source.Prefetch(all[..(Count / 2)]);
        var wanted = all[(Count / 4)..];
        var written = await DeliverAsync(source, wanted);

        Assert.Equal(wanted.Select(w => w.Content).Order(), written.Keys.Order());
        Assert.All(written.Values, n => Assert.Equal(1, n));
        // Two requests, the prefetch's and the rest's; which reached the server first is up to the threads.
        Assert.Equal(new[] { Count / 2, Count - (Count / 2) }.Order(), _asked.Order());
    }

    [Fact]
    public async Task AWriterFails_TheOthersStopWriting()
    {
        using var http = new HttpClient();
        using var source = new MissingContentSource(http, _url, new string('a', 64), Entries);
        source.Prefetch(Wants);
        // Every frame is in before the delivery starts: nothing but the failure can stop the writers.
        for (var wait = 0; Volatile.Read(ref _answered) == 0 && wait < 300; wait++)
        {
            await Task.Delay(100);
        }

        var calls = 0;
        var e = await Assert.ThrowsAsync<IOException>(async () => await source.DeliverAsync(Wants, (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new IOException("No space left on device");
            }

            // The other writers go on until the failing one has caught its exception; on a loaded host that thread
            // can wait a whole time slice first. Slow writes keep what they finish meanwhile far below every frame.
            Thread.Sleep(20);
        }, CancellationToken.None));

        Assert.Equal("No space left on device", e.Message);
        // Without the stop, the other writers would write all of them.
        Assert.InRange(calls, 1, Count / 2);
    }
}
