using System.Buffers;
using Sidus.Store;
using Sidus.Store.Compression;
using Sidus.Store.Objects;
using Sidus.Store.Sync;
using Sidus.Wire.Contracts;

namespace Sidus.Agent.Fetch;

/// <summary>
/// File data from the server for an update: only the contents the sync found missing, asked for by id
/// (<see cref="ContentsRequest"/>, POST <see cref="ContentRoutes.Contents"/>) in requests of up to
/// <see cref="RequestBytes"/>, <see cref="ContentBatchPlan.ParallelBatches"/> in flight, zstd where the server finds
/// it smaller. Every content is checked against its SHA-256 (a large one in pieces as they are written, before the
/// rename); one that does not match fails the update, and nothing of it reaches its path. A request cut by the
/// network is asked again, less what was written, up to <see cref="Attempts"/> times. The contents an update will most likely want can be asked for early
/// (<see cref="Prefetch"/>), while the sync still walks the root.
/// </summary>
internal sealed class MissingContentSource(HttpClient http, string server, string version, IReadOnlyList<ManifestEntry> entries)
    : IContentSource, IDisposable
{
    /// <summary>File data per request: large enough that a request's overhead vanishes, small enough to retry.</summary>
    public const long RequestBytes = 32L << 20;
    public const int Attempts = 4;

    /// <summary>
    /// Requests a prefetch makes at most: a bound on what it keeps in memory, frames as sent. One: three made an
    /// install fault in 6k more fresh pages (the frames held) and gained nothing on an update.
    /// </summary>
    public const int PrefetchRequests = 1;

    /// <summary>Contents up to this size are read into pooled buffers; a rare larger one gets its own.</summary>
    private const int PooledLength = 16 << 20;

    /// <summary>Compressed contents above this size are decompressed, checked and written in pieces of it.</summary>
    private const int PieceLength = 1 << 20;

    private readonly CancellationTokenSource _stop = new();
    private long _received;
    private int _requests;

    /// <summary>Each prefetched content: its place in the prefetch and its frame once it came (null: it never will).</summary>
    private Dictionary<ObjectId, (int Order, TaskCompletionSource<Frame?> Frame)> _arrivals = [];
    private readonly HashSet<ObjectId> _claimed = [];
    private Task? _prefetch;
    private string? _prefetchFailure;

    /// <summary>Bytes of the answers' bodies (frames, as sent).</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// Starts asking for up to <see cref="PrefetchRequests"/> requests' worth of LIKELY (contents the update will most
    /// probably want: those the root's state cache does not show at their paths) and keeps their frames, as sent,
    /// until <see cref="DeliverAsync"/> asks for them: the transfer overlaps the sync's walk, and the writing starts on
    /// the frames that came while later ones still arrive. Nothing is written or trusted before then; a content the
    /// sync does not want after all is dropped, one the prefetch failed to bring is asked for again.
    /// </summary>
    public void Prefetch(IReadOnlyList<ContentWant> likely)
    {
        var requests = Split(likely).Take(PrefetchRequests).ToList();
        if (_prefetch is not null || requests.Count == 0)
        {
            return;
        }

        _arrivals = requests.SelectMany(r => r).Select((want, order) => (want.Content, order))
            .ToDictionary(p => p.Content, p => (p.order, new TaskCompletionSource<Frame?>(TaskCreationOptions.RunContinuationsAsynchronously)));
        var stop = _stop.Token;
        _prefetch = Task.WhenAll(requests.Select(request => Task.Run(() => KeepFramesAsync(request, stop))));
    }

    public async ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation)
    {
        var early = new List<ContentWant>();
        var rest = new List<ContentWant>();
        lock (_claimed)
        {
            // Each prefetched frame is claimed once: its buffer goes back to the pool when it is written.
            foreach (var want in wanted)
            {
                (_arrivals.ContainsKey(want.Content) && _claimed.Add(want.Content) ? early : rest).Add(want);
            }
        }

        early.Sort((a, b) => _arrivals[a.Content].Order.CompareTo(_arrivals[b.Content].Order));
        var requests = Split(rest);
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
        // A prefetch the update never used (it failed first) stops with it, and the frames nobody wanted go back to
        // the pool.
        _stop.Cancel();
        _stop.Dispose();
        foreach (var (_, arrival) in _arrivals)
        {
            if (arrival.Frame.Task is { IsCompletedSuccessfully: true, Result: { } frame })
            {
                frame.Release();
            }
        }
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

    /// <summary>
    /// The prefetched frames of EARLY (in the order they were asked for), checked and written as each arrives, on as
    /// many threads as requests in flight would have used (writing is most of the work); whatever the prefetch did not
    /// bring is fetched now.
    /// </summary>
    private async Task DeliverPrefetchedAsync(List<ContentWant> early, ContentWriter write, CancellationToken cancellation)
    {
        var next = -1;
        var missed = new List<ContentWant>();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        async Task WriteArrivingAsync()
        {
            try
            {
                for (int i; (i = Interlocked.Increment(ref next)) < early.Count;)
                {
                    var want = early[i];
                    if (await _arrivals[want.Content].Frame.Task.WaitAsync(failed.Token) is not { } frame)
                    {
                        lock (missed)
                        {
                            missed.Add(want);
                        }

                        continue;
                    }

                    try
                    {
                        // A frame that came before the update failed or was cancelled is not written after it.
                        failed.Token.ThrowIfCancellationRequested();
                        Deliver(want.Content, frame.Sent.AsMemory(0, frame.Length), frame.Encoding, want.Length, write);
                    }
                    finally
                    {
                        frame.Release();
                    }
                }
            }
            catch
            {
                // One writer failing stops the others: the update has failed.
                await failed.CancelAsync();
                throw;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, ContentBatchPlan.ParallelBatches).Select(_ => Task.Run(WriteArrivingAsync, failed.Token)));
        if (missed.Count > 0)
        {
            AgentConsole.Fail($"fetching {missed.Count} contents early from {server}: {_prefetchFailure ?? "cut short"}; asking for them again");
            await FetchWithRetryAsync(missed, write, cancellation);
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

    /// <summary>One prefetch request's frames kept as sent (compressed), each handed on as it comes.</summary>
    private async Task KeepFramesAsync(List<ContentWant> request, CancellationToken cancellation)
    {
        try
        {
            await ReadFramesAsync(request, cancellation, async (want, encoding, sent, read) =>
            {
                // Pooled: the delivery returns each buffer once written, and the next frames reuse it.
                var kept = Rent(sent);
                try
                {
                    await read(kept.AsMemory(0, (int)sent));
                }
                catch
                {
                    Return(kept);
                    throw;
                }

                if (!_arrivals[want.Content].Frame.TrySetResult(new Frame(kept, (int)sent, encoding)))
                {
                    Return(kept);
                }
            });
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            // Whatever failed, the delivery asks for the rest again and says why the prefetch stopped.
            _prefetchFailure = Reason(e);
        }
        catch (OperationCanceledException)
        {
            // The update ended first (Dispose).
        }
        finally
        {
            // What did not come is asked for again by the delivery.
            foreach (var want in request)
            {
                _arrivals[want.Content].Frame.TrySetResult(null);
            }
        }
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
            var reason = ServerProblem.Text(await response.Content.ReadAsStringAsync(cancellation));
            // A damaged content is named by its id: the admin also gets the file it is.
            var named = request.Where(w => reason.Contains(w.Content.ToString(), StringComparison.Ordinal)).Select(w => (ObjectId?)w.Content).FirstOrDefault();
            throw new UpdateFailedException($"the server answered {(int)response.StatusCode} for {request.Count} contents of {version[..12]}" +
                (named is { } id ? $" ({Where(id)} among them)" : "") + $": {reason}");
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
        if (encoding == ContentsFrame.Zstd && length > PieceLength)
        {
            write(id, Pieces(id, sent, length));
            return;
        }

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

    /// <summary>
    /// A large content's zstd frame decompressed and hashed a piece at a time, through one reused buffer: a buffer of
    /// its whole size would be fresh memory each time (an install's large files made half of its page faults). The
    /// check comes at the end, so the writer takes the pieces into its temporary files and, when the enumeration
    /// throws, removes them: nothing of a wrong content reaches its path. Each piece is valid until the next is taken.
    /// </summary>
    private IEnumerable<ReadOnlyMemory<byte>> Pieces(ObjectId id, ReadOnlyMemory<byte> sent, long length)
    {
        var piece = ArrayPool<byte>.Shared.Rent(PieceLength);
        try
        {
            using var zstd = new ZstdDecompressStream(sent, $"content {id}");
            using var hash = ObjectId.StartHash();
            long total = 0;
            while (Decompressed(zstd, piece, id) is var n and > 0)
            {
                total += n;
                if (total > length)
                {
                    throw new CorruptContentException($"the data of {Where(id)} is corrupt on the server: it decompresses to more than its {length} bytes; nothing of it was written");
                }

                hash.Append(piece.AsSpan(0, n));
                yield return piece.AsMemory(0, n);
            }

            if (total != length)
            {
                throw new CorruptContentException($"the data of {Where(id)} is corrupt on the server: it decompresses to {total} of its {length} bytes; nothing of it was written");
            }

            if (hash.Finish() is var actual && actual != id)
            {
                throw new CorruptContentException($"the data of {Where(id)} is corrupt on the server: content {id} hashes to {actual}; nothing of it was written");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }

    private int Decompressed(ZstdDecompressStream zstd, byte[] piece, ObjectId id)
    {
        try
        {
            return zstd.Read(piece);
        }
        catch (StoreException e)
        {
            throw new CorruptContentException($"the data of {Where(id)} does not decompress: {e.Message}");
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

    /// <summary>A path of content ID, for a message (a rare error: the manifest is searched).</summary>
    private string Where(ObjectId id) =>
        entries.FirstOrDefault(e => e.Content is { } c && ObjectId.Read(c) == id) is { } entry ? "/" + LinuxException.Printable(entry.Path) : id.ToString();

    /// <summary>A content's frame as the server sent it: zstd or raw, not yet checked.</summary>
    private sealed class Frame(byte[] sent, int length, byte encoding)
    {
        private int _released;

        public byte[] Sent { get; } = sent;
        public int Length { get; } = length;
        public byte Encoding { get; } = encoding;

        /// <summary>Gives the buffer back to the pool, once: after its delivery, or at Dispose when nobody took it.</summary>
        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Return(Sent);
            }
        }
    }
}

/// <summary>An update cannot go on: the message says why, for the person or script that ran it.</summary>
internal sealed class UpdateFailedException(string message) : Exception(message);
