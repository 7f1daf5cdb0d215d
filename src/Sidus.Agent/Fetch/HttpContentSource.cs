using Sidus.Store.Objects;
using Sidus.Store.Sync;

namespace Sidus.Agent.Fetch;

/// <summary>
/// File data from the server for the sync engine: the version's batches (<see cref="ContentBatchPlan"/>, plain GETs
/// an HTTP cache can keep), <see cref="ContentBatchPlan.ParallelBatches"/> in flight, every content checked against
/// its SHA-256 before it is handed over. A failure (network, a short answer, data that does not match its hash) goes
/// to FAILANDWAIT, which says it and waits (or throws to give up); then the batch is asked for again, less what
/// was already written.
/// </summary>
internal sealed class HttpContentSource(HttpClient http, string server, string version, IReadOnlyList<ManifestEntry> manifest,
    Func<string, Backoff, Task> failAndWait) : IContentSource
{
    private int _requests;
    private long _hashTicks;
    private long _writeTicks;
    private long _bytes;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>When the last content was handed over (a <see cref="Stopwatch"/> timestamp; 0 before).</summary>
    public long DeliveredAt { get; private set; }

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Time spent hashing and writing, summed over the batches in flight.</summary>
    public TimeSpan Hashing => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _hashTicks));

    public TimeSpan Writing => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _writeTicks));

    public async ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation)
    {
        var left = new HashSet<ObjectId>(wanted.Select(w => w.Content));
        var batches = ContentBatchPlan.Make(manifest);
        var needed = batches.Select((items, index) => (Items: items, Index: index))
            .Where(b => b.Items.Any(item => left.Contains(ObjectId.Read(item.Content)))).ToList();
        var planned = needed.SelectMany(b => b.Items).Select(item => ObjectId.Read(item.Content)).ToHashSet();
        if (left.Where(id => !planned.Contains(id)).Take(1).ToList() is [var missing])
        {
            throw new InvalidDataException($"content {missing} is in no batch of the manifest");
        }

        var total = wanted.Sum(w => w.Length);
        AgentConsole.Say($"fetching {wanted.Count} contents ({total / 1048576.0:F1} MiB) in {needed.Count} batches");
        var paths = manifest.Where(e => e.Content is not null).GroupBy(e => ObjectId.Read(e.Content!)).ToDictionary(g => g.Key, g => g.First().Path);
        using var gate = new SemaphoreSlim(ContentBatchPlan.ParallelBatches);
        await Task.WhenAll(needed.Select(async batch =>
        {
            await gate.WaitAsync(cancellation);
            try
            {
                var bytes = await FetchWithRetryAsync(batch.Index, batch.Items, left, paths, write, cancellation);
                var now = Interlocked.Add(ref _bytes, bytes);
                if ((now * 10 / Math.Max(total, 1)) != ((now - bytes) * 10 / Math.Max(total, 1)))
                {
                    AgentConsole.Say($"fetched {now / 1048576.0:F1} of {total / 1048576.0:F1} MiB");
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        DeliveredAt = Stopwatch.GetTimestamp();
    }

    private async Task<long> FetchWithRetryAsync(int index, List<BatchItem> items, HashSet<ObjectId> left, Dictionary<ObjectId, byte[]> paths,
        ContentWriter write, CancellationToken cancellation)
    {
        var backoff = new Backoff();
        long bytes = 0;
        while (true)
        {
            string problem;
            try
            {
                await FetchAsync(index, items, left, paths, write, written => bytes += written, cancellation);
                return bytes;
            }
            catch (CorruptContentException e)
            {
                problem = "REFUSED: " + e.Message;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidDataException)
            {
                problem = $"fetching batch {index} of {version} from {server}: {e.Message}";
            }

            await failAndWait(problem, backoff);
        }
    }

    /// <summary>One GET; the contents still wanted are verified and written as their frames arrive.</summary>
    private async Task FetchAsync(int index, List<BatchItem> items, HashSet<ObjectId> left, Dictionary<ObjectId, byte[]> paths,
        ContentWriter write, Action<long> onWritten, CancellationToken cancellation)
    {
        Interlocked.Increment(ref _requests);
        // Headers only: the body is read as it comes (IdleReader).
        using var response = await http.GetAsync(server + ContentRoutes.BatchOf(version, index), HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
        {
            var reason = ServerProblem.Text(await response.Content.ReadAsStringAsync(cancellation));
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} to batch {index} ({items.Count} files): {reason}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        using var reader = new IdleReader(stream, cancellation);
        Task ReadAsync(Memory<byte> buffer) => reader.ReadExactlyAsync(buffer);

        var header = new byte[ContentBatchFrame.HeaderLength];
        foreach (var item in items)
        {
            await ReadAsync(header);
            var (frameId, length) = ContentBatchFrame.ReadHeader(header);
            if (!frameId.AsSpan().SequenceEqual(item.Content) || length != item.Length)
            {
                throw new InvalidDataException($"the batch answer is out of step: expected {Convert.ToHexStringLower(item.Content)} ({item.Length} bytes), " +
                                               $"got {Convert.ToHexStringLower(frameId)} ({length} bytes)");
            }

            var data = new byte[length];
            await ReadAsync(data);
            var id = ObjectId.Read(item.Content);
            lock (left)
            {
                if (!left.Contains(id))
                {
                    continue;
                }
            }

            var hashStart = Stopwatch.GetTimestamp();
            var actual = Sha256.Hash(data);
            Interlocked.Add(ref _hashTicks, Stopwatch.GetTimestamp() - hashStart);
            if (!actual.AsSpan().SequenceEqual(item.Content))
            {
                throw new CorruptContentException(
                    $"the data of {LinuxException.Printable(paths[id])} is corrupt on the server: content {id} hashes to {Convert.ToHexStringLower(actual)}; this node will not boot from it");
            }

            var writeStart = Stopwatch.GetTimestamp();
            write(id, [data]);
            Interlocked.Add(ref _writeTicks, Stopwatch.GetTimestamp() - writeStart);
            lock (left)
            {
                left.Remove(id);
            }

            onWritten(length);
        }
    }
}
