using System.Buffers;
using Sidus.Store;
using Sidus.Store.Compression;
using Sidus.Store.Objects;
using Sidus.Store.Sync;

namespace Sidus.Agent.Fetch;

/// <summary>
/// File data from the server for an update: only the contents the sync found missing, asked for by id
/// (<see cref="ContentsRequest"/>, POST <see cref="ContentRoutes.Contents"/>) in requests of up to
/// <see cref="RequestBytes"/>, <see cref="ContentBatchPlan.ParallelBatches"/> in flight, zstd where the server finds
/// it smaller. Every content is checked against its SHA-256 before it is handed over; one that does not match fails
/// the update (nothing of it is written). A request cut by the network is asked again, less what was written, up to
/// <see cref="Attempts"/> times. The first request's worth of the contents an update will most likely want can be
/// asked for early (<see cref="Prefetch"/>), while the sync still walks the root.
/// </summary>
internal sealed class MissingContentSource(HttpClient http, string server, string version, IReadOnlyDictionary<ObjectId, byte[]> paths)
    : IContentSource, IDisposable
{
    /// <summary>File data per request: large enough that a request's overhead vanishes, small enough to retry.</summary>
    public const long RequestBytes = 32L << 20;
    public const int Attempts = 4;

    /// <summary>Contents up to this size are read into pooled buffers; a rare larger one gets its own.</summary>
    private const int PooledLength = 16 << 20;

    private readonly CancellationTokenSource _stop = new();
    private long _received;
    private int _requests;
    private HashSet<ObjectId> _prefetched = [];
    private Task<Dictionary<ObjectId, Frame>>? _prefetch;

    /// <summary>Bytes of the answers' bodies (frames, as sent).</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// Starts asking for the first request's worth of LIKELY (contents the update will most probably want: those the
    /// root's state cache does not show at their paths) and keeps their frames, as sent, until
    /// <see cref="DeliverAsync"/> asks for them: the transfer overlaps the sync's walk. Nothing is written or trusted
    /// before then; a content the sync does not want after all is dropped, one the prefetch failed to bring is asked
    /// for again.
    /// </summary>
    public void Prefetch(IReadOnlyList<ContentWant> likely)
    {
        if (_prefetch is not null || Split(likely).FirstOrDefault() is not { } first)
        {
            return;
        }

        _prefetched = [.. first.Select(w => w.Content)];
        _prefetch = Task.Run(() => KeepFramesAsync(first, _stop.Token));
    }

    public async ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation)
    {
        var early = wanted.Where(w => _prefetched.Contains(w.Content)).ToList();
        var requests = Split(wanted.Where(w => !_prefetched.Contains(w.Content)));
        using var gate = new SemaphoreSlim(ContentBatchPlan.ParallelBatches);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        async Task Guarded(Func<Task> work)
        {
            try
            {
                await work();
            }
            catch
            {
                // One failure ends the update: the other requests stop rather than write on.
                await failed.CancelAsync();
                throw;
            }
        }

        var fetches = requests.Select(request => Guarded(async () =>
        {
            await gate.WaitAsync(failed.Token);
            try
            {
                await FetchWithRetryAsync(request, write, failed.Token);
            }
            finally
            {
                gate.Release();
            }
        })).ToList();
        if (early.Count > 0)
        {
            fetches.Add(Guarded(() => DeliverPrefetchedAsync(early, write, failed.Token)));
        }

        await Task.WhenAll(fetches);
    }

    public void Dispose()
    {
        // A prefetch the update never used (it failed first) stops with it.
        _stop.Cancel();
        _stop.Dispose();
    }

    /// <summary>Requests of up to <see cref="RequestBytes"/> and <see cref="ContentsRequest.MaxIds"/> contents, in order.</summary>
    private static List<List<ContentWant>> Split(IEnumerable<ContentWant> wanted)
    {
        var requests = new List<List<ContentWant>>();
        List<ContentWant>? current = null;
        long size = 0;
        foreach (var want in wanted)
        {
            if (current is null || current.Count == ContentsRequest.MaxIds || size + want.Length > RequestBytes)
            {
                requests.Add(current = []);
                size = 0;
            }

            current.Add(want);
            size += want.Length;
        }

        return requests;
    }

    /// <summary>The prefetched frames of EARLY, checked and written; whatever the prefetch did not bring is fetched now.</summary>
    private async Task DeliverPrefetchedAsync(List<ContentWant> early, ContentWriter write, CancellationToken cancellation)
    {
        Dictionary<ObjectId, Frame> frames;
        try
        {
            frames = await _prefetch!.WaitAsync(cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or UpdateFailedException ||
                                  (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            AgentConsole.Fail($"fetching {early.Count} contents early from {server}: {Reason(e)}; asking for them again");
            frames = [];
        }

        // Checked and written on as many threads as requests in flight would have used: writing is most of the work.
        var ready = early.Where(w => frames.ContainsKey(w.Content)).ToList();
        var share = (ready.Count + ContentBatchPlan.ParallelBatches - 1) / ContentBatchPlan.ParallelBatches;
        await Task.WhenAll(ready.Chunk(Math.Max(1, share)).Select(part => Task.Run(() =>
        {
            foreach (var want in part)
            {
                cancellation.ThrowIfCancellationRequested();
                var frame = frames[want.Content];
                Deliver(want.Content, frame.Sent, frame.Encoding, want.Length, write);
            }
        }, cancellation)));

        var left = early.Where(w => !frames.ContainsKey(w.Content)).ToList();
        if (left.Count > 0)
        {
            await FetchWithRetryAsync(left, write, cancellation);
        }
    }

    private async Task FetchWithRetryAsync(List<ContentWant> request, ContentWriter write, CancellationToken cancellation)
    {
        var left = request;
        var backoff = new Backoff(0.5, 4);
        for (var attempt = 1; ; attempt++)
        {
            var done = new HashSet<ObjectId>();
            try
            {
                await ReadFramesAsync(left, cancellation, async (want, encoding, sent, read) =>
                {
                    // Pooled: a fresh array per content would fault in (and zero) every byte of the version once more.
                    var received = Rent(sent);
                    try
                    {
                        await read(received.AsMemory(0, (int)sent));
                        Deliver(want.Content, received.AsMemory(0, (int)sent), encoding, want.Length, write);
                    }
                    finally
                    {
                        Return(received);
                    }

                    done.Add(want.Content);
                });
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException && attempt >= Attempts)
            {
                throw new UpdateFailedException($"fetching contents from {server} failed {Attempts} times, last: {Reason(e)}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException && !cancellation.IsCancellationRequested)
            {
                AgentConsole.Fail($"fetching {left.Count} contents from {server}: {Reason(e)}; retrying ({attempt} of {Attempts - 1})");
                left = [.. left.Where(w => !done.Contains(w.Content))];
                await Task.Delay(backoff.Next(), cancellation);
            }
        }
    }

    /// <summary>One request's frames kept as sent (compressed), for <see cref="DeliverPrefetchedAsync"/>.</summary>
    private async Task<Dictionary<ObjectId, Frame>> KeepFramesAsync(List<ContentWant> request, CancellationToken cancellation)
    {
        var frames = new Dictionary<ObjectId, Frame>();
        await ReadFramesAsync(request, cancellation, async (want, encoding, sent, read) =>
        {
            var kept = new byte[sent];
            await read(kept);
            frames[want.Content] = new Frame(kept, encoding);
        });
        return frames;
    }

    /// <summary>
    /// One POST for REQUEST's contents; for each frame in turn, its header checked against the content wanted, then
    /// ONFRAME(want, encoding, bytes sent, read), which must read exactly the bytes sent. Frames are taken as they
    /// arrive, so a cut answer keeps what came before it.
    /// </summary>
    private async Task ReadFramesAsync(List<ContentWant> request, CancellationToken cancellation,
        Func<ContentWant, byte, long, Func<Memory<byte>, Task>, Task> onFrame)
    {
        Interlocked.Increment(ref _requests);
        var ids = request.Select(w =>
        {
            var id = new byte[ObjectId.Size];
            w.Content.Write(id);
            return id;
        }).ToList();
        using var message = new HttpRequestMessage(HttpMethod.Post, server + ContentRoutes.ContentsOf(version))
        {
            Content = new ByteArrayContent(ContentsRequest.Encode(ids, acceptZstd: Zstd.Available)),
        };

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
        {
            var reason = (await response.Content.ReadAsStringAsync(cancellation)).Trim();
            throw new UpdateFailedException($"the server answered {(int)response.StatusCode} for {request.Count} contents of {version[..12]}: {reason}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        using var reader = new IdleReader(stream, cancellation);
        async Task ReadAsync(Memory<byte> buffer)
        {
            await reader.ReadExactlyAsync(buffer);
            Interlocked.Add(ref _received, buffer.Length);
        }

        var header = new byte[ContentsFrame.HeaderLength];
        foreach (var want in request)
        {
            await ReadAsync(header);
            var (frameId, length, encoding, sent) = ContentsFrame.ReadHeader(header);
            var id = ObjectId.Read(frameId);
            if (id != want.Content || length != want.Length)
            {
                throw new InvalidDataException($"the contents answer is out of step: expected {want.Content} ({want.Length} bytes), got {id} ({length} bytes)");
            }

            if (encoding == ContentsFrame.Zstd && sent > length + (length >> 7) + 1024)
            {
                // More than zstd's worst case for the size: a broken or hostile answer, never a buffer that large.
                throw new InvalidDataException($"the contents answer is malformed: {sent} compressed bytes for a {length}-byte content of {Where(id)}");
            }

            if (length > Array.MaxLength)
            {
                throw new UpdateFailedException($"{Where(id)} is {length} bytes: contents over {Array.MaxLength} bytes cannot be fetched yet");
            }

            await onFrame(want, encoding, sent, ReadAsync);
        }
    }

    /// <summary>A content's frame as sent, decompressed and checked against its id, then handed to WRITE.</summary>
    private void Deliver(ObjectId id, ReadOnlyMemory<byte> sent, byte encoding, long length, ContentWriter write)
    {
        var decompressed = encoding == ContentsFrame.Zstd ? Rent(length) : null;
        try
        {
            var data = sent.Span;
            if (decompressed is not null)
            {
                try
                {
                    Zstd.Decompress(sent.Span, decompressed.AsSpan(0, (int)length));
                }
                catch (CorruptObjectException e)
                {
                    throw new CorruptContentException($"the data of {Where(id)} does not decompress: {e.Message}");
                }

                data = decompressed.AsSpan(0, (int)length);
            }

            var actual = Sha256.HashFast(data);
            if (ObjectId.Read(actual) != id)
            {
                throw new CorruptContentException(
                    $"the data of {Where(id)} is corrupt on the server: content {id} hashes to {Convert.ToHexStringLower(actual)}; nothing of it was written");
            }

            // The writer is done with the data when it returns: the buffers go back to the pool.
            write(id, [decompressed is not null ? decompressed.AsMemory(0, (int)length) : sent]);
        }
        finally
        {
            if (decompressed is not null)
            {
                Return(decompressed);
            }
        }
    }

    /// <summary>A buffer of at least LENGTH bytes: from the shared pool up to <see cref="PooledLength"/>, a new one above.</summary>
    private static byte[] Rent(long length) => length <= PooledLength ? ArrayPool<byte>.Shared.Rent((int)length) : new byte[length];

    private static void Return(byte[] buffer)
    {
        if (buffer.Length <= PooledLength)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The message and what caused it ("An error occurred while sending the request" alone says nothing).</summary>
    private static string Reason(Exception e) => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;

    private string Where(ObjectId id) => paths.TryGetValue(id, out var path) ? "/" + LinuxException.Printable(path) : id.ToString();

    /// <summary>A content's frame as the server sent it: zstd or raw, not yet checked.</summary>
    private sealed record Frame(byte[] Sent, byte Encoding);
}

/// <summary>An update cannot go on: the message says why, for the person or script that ran it.</summary>
internal sealed class UpdateFailedException(string message) : Exception(message);
