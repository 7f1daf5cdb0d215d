using Sidus.Store.Refs;
using Sidus.Store.Serving;

namespace Sidus.Artifacts.Versions;

/// <summary>
/// The image store as the server reads it. Packs are immutable, but an import adds new ones after the server
/// started: when a lookup misses an object, the store is reopened (at most once per <see cref="ReopenInterval"/>).
/// Readers hold a lease for as long as they stream, so a reopen never closes files under a running download.
/// </summary>
public sealed class ImageStoreView : IDisposable
{
    public static readonly TimeSpan ReopenInterval = TimeSpan.FromSeconds(1);

    private readonly string _home;
    private readonly ILogger _logger;
    private readonly Lock _reopenLock = new();
    private Holder _current;
    private long _lastReopen;

    public ImageStoreView(string home, ILogger logger)
    {
        _home = home;
        _logger = logger;
        _current = Open(home);
        _lastReopen = Environment.TickCount64;
    }

    /// <summary>The Sidus home the store is in.</summary>
    public string Home => _home;

    /// <summary>The store as it is now; dispose the lease when done reading.</summary>
    public Lease Acquire()
    {
        while (true)
        {
            var holder = Volatile.Read(ref _current);
            var users = Volatile.Read(ref holder.Users);
            if (users > 0 && Interlocked.CompareExchange(ref holder.Users, users + 1, users) == users)
            {
                return new Lease(holder);
            }
        }
    }

    /// <summary>Opens the store again so packs written since are seen; false when the last reopen was too recent.</summary>
    public bool Reopen(string reason)
    {
        lock (_reopenLock)
        {
            if (Environment.TickCount64 - _lastReopen < ReopenInterval.TotalMilliseconds)
            {
                return false;
            }

            var fresh = Open(_home);
            var old = Interlocked.Exchange(ref _current, fresh);
            _lastReopen = Environment.TickCount64;
            Release(old);
            ArtifactsLog.StoreReopened(_logger, reason);
            return true;
        }
    }

    /// <summary>
    /// Whether VERSION is in the store and can still be asked for: its image is there and the version was not removed
    /// (<see cref="Repository.IsLiveVersion"/>). With REOPEN, a miss reopens the store once (when allowed) and looks
    /// again, for versions imported since it was opened; without, the caller reopened just before.
    /// </summary>
    public bool HasVersion(ObjectId version, bool reopen)
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var lease = Acquire())
            {
                if (lease.Repository.Objects.Contains(version))
                {
                    return lease.Repository.IsLiveVersion(version);
                }

                if (!reopen || attempt > 0)
                {
                    return false;
                }
            }

            if (!Reopen($"version {version.Short} not in the packs opened so far"))
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Why SPEC names no version of the store (<see cref="ImageReferences.Problem"/>), null when it does: what the
    /// inventory's edits check (POST /api/apply). A version imported since the store was opened is found by a reopen.
    /// </summary>
    public string? ReferenceProblem(string spec)
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var lease = Acquire())
            {
                try
                {
                    return ImageReferences.Problem(lease.Repository, spec);
                }
                catch (MissingObjectException e) when (attempt > 0)
                {
                    return e.Message;
                }
                catch (MissingObjectException)
                {
                    // Below: reopen, then look again.
                }
            }

            Reopen($"image {spec} not in the packs opened so far");
        }
    }

    public void Dispose() => Release(Interlocked.Exchange(ref _current, new Holder(null!) { Users = 0 }));

    private static Holder Open(string home)
    {
        var repository = Repository.Open(home);
        _ = repository.Objects;
        return new Holder(repository) { Serving = new ServingCache(repository) };
    }

    private static void Release(Holder holder)
    {
        if (Interlocked.Decrement(ref holder.Users) == 0)
        {
            holder.Repository?.Dispose();
        }
    }

    /// <summary>One opened store; <see cref="Users"/> counts leases plus one for being current.</summary>
    private sealed class Holder(Repository repository)
    {
        public readonly Repository Repository = repository;
        public int Users = 1;
        public ServingCache? Serving;
    }

    public readonly struct Lease : IDisposable
    {
        private readonly Holder _holder;

        internal Lease(object holder) => _holder = (Holder)holder;

        public Repository Repository => _holder.Repository;

        /// <summary>What serving remembers about this opened store (verified contents, frames, manifests).</summary>
        public ServingCache Serving => _holder.Serving!;

        public void Dispose() => Release(_holder);
    }
}
