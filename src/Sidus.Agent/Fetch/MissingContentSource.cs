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
/// <see cref="Attempts"/> times.
/// </summary>
internal sealed class MissingContentSource(HttpClient http, string server, string version, IReadOnlyDictionary<ObjectId, byte[]> paths) : IContentSource
{
    /// <summary>File data per request: large enough that a request's overhead vanishes, small enough to retry.</summary>
    public const long RequestBytes = 32L << 20;
    public const int Attempts = 4;

    /// <summary>Contents up to this size are read into pooled buffers; a rare larger one gets its own.</summary>
    private const int PooledLength = 16 << 20;
    private long _received;
    private int _requests;

    /// <summary>Bytes of the answers' bodies (frames, as sent).</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    public int Requests => Volatile.Read(ref _requests);

    public async ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation)
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

        using var gate = new SemaphoreSlim(ContentBatchPlan.ParallelBatches);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        await Task.WhenAll(requests.Select(async request =>
        {
            await gate.WaitAsync(failed.Token);
            try
            {
                await FetchWithRetryAsync(request, write, failed.Token);
            }
            catch
            {
                // One failure ends the update: the other requests stop rather than write on.
                await failed.CancelAsync();
                throw;
            }
            finally
            {
                gate.Release();
            }
        }));
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
                await FetchAsync(left, done, write, cancellation);
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

    private async Task FetchAsync(List<ContentWant> request, HashSet<ObjectId> done, ContentWriter write, CancellationToken cancellation)
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

        // Headers only: the frames are written as they arrive, so a cut answer keeps what came before it.
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

            // Pooled: a fresh array per content would fault in (and zero) every byte of the version once more.
            var received = Rent(sent);
            var data = encoding == ContentsFrame.Zstd ? Rent(length) : received;
            try
            {
                await ReadAsync(received.AsMemory(0, (int)sent));
                if (encoding == ContentsFrame.Zstd)
                {
                    try
                    {
                        Zstd.Decompress(received.AsSpan(0, (int)sent), data.AsSpan(0, (int)length));
                    }
                    catch (CorruptObjectException e)
                    {
                        throw new CorruptContentException($"the data of {Where(id)} does not decompress: {e.Message}");
                    }
                }

                var actual = Sha256.HashFast(data.AsSpan(0, (int)length));
                if (ObjectId.Read(actual) != id)
                {
                    throw new CorruptContentException(
                        $"the data of {Where(id)} is corrupt on the server: content {id} hashes to {Convert.ToHexStringLower(actual)}; nothing of it was written");
                }

                // The writer is done with the data when it returns: the buffers go back to the pool.
                write(id, [data.AsMemory(0, (int)length)]);
            }
            finally
            {
                Return(received);
                if (data != received)
                {
                    Return(data);
                }
            }

            done.Add(id);
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
}

/// <summary>An update cannot go on: the message says why, for the person or script that ran it.</summary>
internal sealed class UpdateFailedException(string message) : Exception(message);
