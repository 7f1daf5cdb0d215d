namespace Sidus.Store.Serving;

/// <summary>
/// The zstd bodies of <see cref="ContentServer.WriteContentsAsync"/>, made once per content and shared by every
/// request that sends it: nodes updated to one version ask for the same contents, and twenty of them at once then
/// cost the compression of one (bench/RESULTS.md, installed nodes). Bounded in bytes; when full it starts again
/// empty, as <see cref="VerifiedIdSet"/> does: forgetting costs one more compression.
/// </summary>
public sealed class CompressedFrameCache
{
    /// <summary>What an entry costs beside its body (the dictionary's share), so that "no body" entries count too.</summary>
    private const int EntryOverhead = 64;

    private readonly ConcurrentDictionary<ObjectId, Lazy<byte[]?>> _bodies = new();
    private long _bytes;
    private int _made;
    private int _reused;

    public CompressedFrameCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    public long CapacityBytes { get; }

    /// <summary>The bytes held now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>How many bodies were made (compressed), and how many answers were given from the cache.</summary>
    public int Made => Volatile.Read(ref _made);

    public int Reused => Volatile.Read(ref _reused);

    /// <summary>
    /// CONTENT's compressed body: made by MAKE the first time (while other requests for it wait for that one), then
    /// shared. Null when MAKE found compression not worth it (the content goes raw), remembered as well. A MAKE that
    /// throws (a damaged content) is not remembered: the next request tries again.
    /// </summary>
    public byte[]? GetOrMake(ObjectId content, Func<byte[]?> make)
    {
        ArgumentNullException.ThrowIfNull(make);
        if (CapacityBytes == 0)
        {
            return make();
        }

        var fresh = new Lazy<byte[]?>(() =>
        {
            var body = make();
            Interlocked.Increment(ref _made);
            Interlocked.Add(ref _bytes, (body?.Length ?? 0) + EntryOverhead);
            return body;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        var lazy = _bodies.GetOrAdd(content, fresh);
        byte[]? value;
        try
        {
            value = lazy.Value;
        }
        catch
        {
            _bodies.TryRemove(KeyValuePair.Create(content, lazy));
            throw;
        }

        if (!ReferenceEquals(lazy, fresh))
        {
            Interlocked.Increment(ref _reused);
        }

        if (Interlocked.Read(ref _bytes) > CapacityBytes)
        {
            // Approximate under concurrency (an entry made while clearing may stay uncounted): a bound, not a ledger.
            _bodies.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }

        return value;
    }
}
