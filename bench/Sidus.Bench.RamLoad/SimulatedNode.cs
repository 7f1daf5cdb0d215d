using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Sidus.Agent;
using Sidus.Wire.Contracts;

namespace Sidus.Bench.RamLoad;

/// <summary>
/// One simulated node fetching a version the way the agent's RootFetcher does: the manifest, then the batches of
/// <see cref="ContentBatchPlan"/> with <see cref="ContentBatchPlan.ParallelBatches"/> in flight, every frame checked for id and
/// length, failures retried with the agent's <see cref="Backoff"/> until the run's deadline. Data is dropped instead
/// of written, and answers are read as they stream through a small buffer (the agent keeps one file at a time); the SHA-256 of every file is checked when <c>verifyHash</c>
/// (the agent always checks it, on its own CPU; here the CPU is shared with the server).
/// In "files" mode it GETs each content as a plain file (BASE/objects/ID), as from a static web server.
/// </summary>
internal sealed class SimulatedNode(HttpClient http, Uri server, FetchSetup setup, bool verifyHash, bool plainFiles)
{
    private const int FrameHeaderLength = 32 + sizeof(long);

    /// <summary>The agent's HttpClient.Timeout (the manifest, and the headers of a batch answer).</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The agent's limit on silence while a batch answer streams (RootFetcher.IdleLimit).</summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(30);
    private int _errors;
    private string? _firstError;
    private long _bytes;

    public sealed record Result(bool Done, double Seconds, long Bytes, int Errors, string? FirstError);

    public async Task<Result> RunAsync(CancellationToken deadline)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await RetryAsync(FetchManifestAsync, deadline, RequestTimeout).ConfigureAwait(false);
            using var gate = new SemaphoreSlim(ContentBatchPlan.ParallelBatches);
            var buffers = new ConcurrentBuffers();
            var tasks = setup.Batches.Select(async (batch, index) =>
            {
                await gate.WaitAsync(deadline).ConfigureAwait(false);
                try
                {
                    var left = batch;
                    await RetryAsync(async ct =>
                    {
                        var buffer = buffers.Rent();
                        try
                        {
                            await (plainFiles ? FetchFilesAsync(left, done => left = Remaining(left, done), buffer, ct)
                                              : FetchBatchAsync(index, batch, left, done => left = Remaining(left, done), buffer, ct)).ConfigureAwait(false);
                        }
                        finally
                        {
                            buffers.Return(buffer);
                        }
                    }, deadline, null).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return new Result(true, clock.Elapsed.TotalSeconds, Interlocked.Read(ref _bytes), _errors, _firstError);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return new Result(false, clock.Elapsed.TotalSeconds, Interlocked.Read(ref _bytes), _errors, _firstError ?? "deadline");
        }
    }

    private static List<string> Remaining(List<string> ids, HashSet<string> done) => [.. ids.Where(id => !done.Contains(id))];

    /// <summary>
    /// As the agent: the manifest attempt gets <see cref="RequestTimeout"/> as a whole; a batch answer is read as it
    /// streams, cut only by <see cref="IdleLimit"/> of silence; failures are retried after the agent's backoff.
    /// </summary>
    private async Task RetryAsync(Func<CancellationToken, Task> attempt, CancellationToken deadline, TimeSpan? wholeAttemptLimit)
    {
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(deadline);
                if (wholeAttemptLimit is { } whole)
                {
                    limit.CancelAfter(whole);
                }

                await attempt(limit.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!deadline.IsCancellationRequested &&
                                      e is HttpRequestException or IOException or InvalidDataException or OperationCanceledException)
            {
                Interlocked.Increment(ref _errors);
                Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
                await Task.Delay(backoff.Next(), deadline).ConfigureAwait(false);
            }
        }
    }

    private async Task FetchManifestAsync(CancellationToken cancellation)
    {
        using var response = await http.GetAsync(new Uri(server, $"/api/versions/{setup.Version}/manifest"), cancellation).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellation).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} for the manifest");
        }

        if (!SHA256.HashData(body).AsSpan().SequenceEqual(setup.ManifestSha256))
        {
            throw new InvalidDataException("the manifest differs from the one planned from");
        }

        Interlocked.Add(ref _bytes, body.Length);
    }

    /// <summary>One GET of batch INDEX, read frame by frame as the agent does; the contents not LEFT to fetch are read past.</summary>
    private async Task FetchBatchAsync(int index, List<string> ids, List<string> left, Action<HashSet<string>> onDone, byte[] buffer, CancellationToken cancellation)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var wanted = left.ToHashSet(StringComparer.Ordinal);
        try
        {
            using var response = await http.GetAsync(new Uri(server, ContentRoutes.BatchOf(setup.Version, index)), HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the server answered {(int)response.StatusCode} to a batch of {ids.Count}");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            await using (stream.ConfigureAwait(false))
            {
                var header = new byte[FrameHeaderLength];
                foreach (var id in ids)
                {
                    idle.CancelAfter(IdleLimit);
                    await stream.ReadExactlyAsync(header, idle.Token).ConfigureAwait(false);
                    var frameId = Convert.ToHexStringLower(header.AsSpan(0, 32));
                    var length = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(32));
                    if (frameId != id || length != setup.Lengths[id])
                    {
                        throw new InvalidDataException($"the batch answer is out of step: expected {id}, got {frameId} ({length} bytes)");
                    }

                    await ReceiveAsync(stream, wanted.Contains(id) ? id : null, length, buffer, idle).ConfigureAwait(false);
                    done.Add(id);
                    Interlocked.Add(ref _bytes, FrameHeaderLength + length);
                }
            }
        }
        finally
        {
            onDone(done);
        }
    }

    /// <summary>Each content as a plain file, one GET after the other on this batch's connection.</summary>
    private async Task FetchFilesAsync(List<string> ids, Action<HashSet<string>> onDone, byte[] buffer, CancellationToken cancellation)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var id in ids)
            {
                using var response = await http.GetAsync(new Uri(server, $"/objects/{id}"), HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the server answered {(int)response.StatusCode} for {id}");
                }

                var length = setup.Lengths[id];
                if (response.Content.Headers.ContentLength != length)
                {
                    throw new InvalidDataException($"{id}: {response.Content.Headers.ContentLength} bytes announced, expected {length}");
                }

                var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    await ReceiveAsync(stream, id, length, buffer, idle).ConfigureAwait(false);
                }

                done.Add(id);
                Interlocked.Add(ref _bytes, length);
            }
        }
        finally
        {
            onDone(done);
        }
    }

    /// <summary>Reads LENGTH bytes of ID's data through a small buffer, hashing them when this node checks hashes (and ID is still wanted).</summary>
    private async Task ReceiveAsync(Stream stream, string? id, long length, byte[] buffer, CancellationTokenSource idle)
    {
        using var hash = verifyHash && id is not null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var left = length;
        while (left > 0)
        {
            var n = (int)Math.Min(buffer.Length, left);
            idle.CancelAfter(IdleLimit);
            await stream.ReadExactlyAsync(buffer.AsMemory(0, n), idle.Token).ConfigureAwait(false);
            hash?.AppendData(buffer, 0, n);
            left -= n;
        }

        if (hash is not null && Convert.ToHexStringLower(hash.GetHashAndReset()) != id)
        {
            throw new InvalidDataException($"REFUSED: content {id} does not hash to its id");
        }
    }

    /// <summary>One small receive buffer per batch in flight (the agent allocates each file whole).</summary>
    private sealed class ConcurrentBuffers
    {
        private const int BufferSize = 64 * 1024;
        private readonly System.Collections.Concurrent.ConcurrentBag<byte[]> _free = [];

        public byte[] Rent() => _free.TryTake(out var b) ? b : new byte[BufferSize];

        public void Return(byte[] buffer) => _free.Add(buffer);
    }
}
