using System.Diagnostics;

namespace Sidus.Wire.Tftp;

/// <summary>
/// A token bucket per source address, so one host (or a spoofed flood in its name) cannot use the server as a
/// reflector. Used by the single request loop only, so it needs no locking.
/// </summary>
internal sealed class TftpRateLimiter
{
    /// <summary>Above this many tracked sources, full (idle) buckets are forgotten.</summary>
    private const int PruneThreshold = 10_000;

    private readonly double _perSecond;
    private readonly double _burst;
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];

    public TftpRateLimiter(double perSecond, int burst)
    {
        _perSecond = perSecond;
        _burst = burst;
    }

    public bool TryAcquire(IPAddress source, long timestamp)
    {
        if (!_buckets.TryGetValue(source, out var bucket))
        {
            if (_buckets.Count >= PruneThreshold)
            {
                Prune(timestamp);
            }

            bucket = new Bucket(_burst, timestamp);
        }

        var tokens = Math.Min(_burst, bucket.Tokens + (Stopwatch.GetElapsedTime(bucket.Stamp, timestamp).TotalSeconds * _perSecond));
        var allowed = tokens >= 1;
        _buckets[source] = new Bucket(allowed ? tokens - 1 : tokens, timestamp);
        return allowed;
    }

    private void Prune(long timestamp)
    {
        foreach (var (address, bucket) in _buckets)
        {
            if (bucket.Tokens + (Stopwatch.GetElapsedTime(bucket.Stamp, timestamp).TotalSeconds * _perSecond) >= _burst)
            {
                _buckets.Remove(address);
            }
        }
    }

    private readonly record struct Bucket(double Tokens, long Stamp);
}
