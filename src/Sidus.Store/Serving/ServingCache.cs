using Sidus.Store.Packs;
using Sidus.Wire.Contracts;

namespace Sidus.Store.Serving;

/// <summary>
/// What a server remembers about one opened store (<see cref="PackSet"/>) so that many nodes fetching the same
/// version cost little more than one: which contents were verified (each is hashed once per process, by the first
/// request that needs it, while concurrent requests for it wait for that one check), decompressed frames shared by
/// all requests, the contents compressed for the wire, and the manifests made.
/// </summary>
/// <remarks>
/// Verified once means: a pack damaged on disk AFTER its object was verified in this process is no longer caught
/// here; what is sent is then wrong and the node's own hash check refuses it (a frame that no longer decompresses is
/// still caught). A new process, or a reopened store, verifies again. Packs are written once and never modified,
/// so that window is disk damage while the server runs.
/// </remarks>
public sealed class ServingCache
{
    public const int DefaultVerifiedCapacity = 1 << 18;
    public const long DefaultFrameBytes = 256L << 20;
    public const long DefaultCompressedBytes = 256L << 20;
    private const int MaxManifests = 8;

    private readonly ConcurrentDictionary<ObjectId, Task> _checking = new();
    private readonly ConcurrentDictionary<ObjectId, Lazy<(byte[] Manifest, string Sha256)>> _manifests = new();
    private readonly ConcurrentDictionary<ObjectId, Lazy<List<List<BatchItem>>>> _batches = new();
    private int _checksRun;

    public ServingCache(Repository repository, int verifiedCapacity = DefaultVerifiedCapacity, long frameBytes = DefaultFrameBytes,
        long compressedBytes = DefaultCompressedBytes)
    {
        ArgumentNullException.ThrowIfNull(repository);
        Repository = repository;
        Verified = new VerifiedIdSet(verifiedCapacity);
        Compressed = new CompressedFrameCache(compressedBytes);
        if (frameBytes > 0)
        {
            repository.Objects.SharedFrames = new SharedFrameCache(frameBytes);
        }
    }

    public Repository Repository { get; }

    public VerifiedIdSet Verified { get; }

    /// <summary>The contents answers' zstd bodies, compressed once for every node that asks.</summary>
    public CompressedFrameCache Compressed { get; }

    /// <summary>How many content checks ran (hashing the data), as opposed to answered from <see cref="Verified"/>.</summary>
    public int Checks => Volatile.Read(ref _checksRun);

    /// <summary>
    /// Makes sure CONTENT's data hashes to its id, once per process: throws <see cref="CorruptObjectException"/> or
    /// <see cref="MissingObjectException"/> when it does not, or when it cannot be read at all (an I/O error of the
    /// disk); a failed check is not remembered: the next asks again.
    /// </summary>
    public Task VerifyAsync(ObjectId content, CancellationToken cancellation)
    {
        if (Verified.Contains(content))
        {
            return Task.CompletedTask;
        }

        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _checking.GetOrAdd(content, mine.Task);
        if (running != mine.Task)
        {
            return running.WaitAsync(cancellation);
        }

        try
        {
            if (!Verified.Contains(content))
            {
                Interlocked.Increment(ref _checksRun);
                foreach (var piece in ContentStore.Read(Repository.Objects, content))
                {
                    _ = piece;
                }

                Verified.Add(content);
            }

            mine.SetResult();
            return mine.Task;
        }
        catch (Exception e)
        {
            // Whatever ends the check ends it for the requests waiting on it too (an exception left only to this
            // caller would leave them waiting for ever). A disk's read error is damage to whoever serves the content.
            mine.SetException(e is IOException and not StoreException
                ? new CorruptObjectException($"content {content} cannot be read: {e.Message}", e)
                : e);
            return mine.Task;
        }
        finally
        {
            _checking.TryRemove(content, out _);
        }
    }

    /// <summary>CONTENT's data: unchecked when it was verified in this process, checked (and remembered) otherwise.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Read(ObjectId content)
    {
        if (Verified.Contains(content))
        {
            return ContentStore.ReadTrusted(Repository.Objects, content);
        }

        return ReadAndRemember(content);
    }

    /// <summary>The manifest of VERSION, made once (a few per process are kept: versions never change).</summary>
    public (byte[] Manifest, string Sha256) Manifest(ObjectId version, CancellationToken cancellation)
    {
        if (_manifests.Count >= MaxManifests)
        {
            _manifests.Clear();
        }

        var lazy = _manifests.GetOrAdd(version, v => new Lazy<(byte[], string)>(() => ContentServer.Manifest(Repository, v, CancellationToken.None)));
        cancellation.ThrowIfCancellationRequested();
        try
        {
            return lazy.Value;
        }
        catch (IOException)
        {
            // A Lazy keeps its exception: without this, a read error would be the answer until the cache is cleared.
            _manifests.TryRemove(KeyValuePair.Create(version, lazy));
            throw;
        }
    }

    /// <summary>The <see cref="ContentBatchPlan"/> of VERSION, made once from its manifest (as the node makes it).</summary>
    public List<List<BatchItem>> Batches(ObjectId version, CancellationToken cancellation)
    {
        if (_batches.Count >= MaxManifests)
        {
            _batches.Clear();
        }

        var manifest = Manifest(version, cancellation).Manifest;
        var lazy = _batches.GetOrAdd(version, _ => new Lazy<List<List<BatchItem>>>(() =>
            ContentBatchPlan.Make(ManifestReader.Parse(manifest))));
        return lazy.Value;
    }

    private IEnumerable<ReadOnlyMemory<byte>> ReadAndRemember(ObjectId content)
    {
        foreach (var piece in ContentStore.Read(Repository.Objects, content))
        {
            yield return piece;
        }

        Verified.Add(content);
    }
}
