namespace Sidus.Artifacts;

/// <summary>
/// One kind of artifact of every version: at most one build per version at a time, whose task every asker shares
/// (nobody blocks waiting for it), run by <see cref="BuildWorkers"/>. A made artifact is found again through
/// TRYCACHED (memory or disk; it may have been pruned since, and is then built again); a failed build is remembered
/// for <see cref="VersionArtifacts.FailureKeptFor"/>, so the nodes asking meanwhile get its message at once instead of
/// starting the same failing build over and over.
/// </summary>
internal sealed class SingleFlight<T>(
    BuildWorkers workers, Func<ObjectId, T?> tryCached, Func<ObjectId, CancellationToken, T> build, TimeProvider time)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ObjectId, Flight> _flights = [];
    private int _started;

    /// <summary>How many builds were started (each may still find its artifact cached on disk and end at once).</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>The artifact, made already (a completed task), being made, or failed recently (a faulted task).</summary>
    public Task<T> GetAsync(ObjectId version)
    {
        if (Current(version) is { } current)
        {
            return current;
        }

        // Outside the lock: this looks at the disk.
        if (tryCached(version) is { } ready)
        {
            return Task.FromResult(ready);
        }

        lock (_lock)
        {
            if (CurrentLocked(version) is { } startedMeanwhile)
            {
                return startedMeanwhile;
            }

            ForgetFinished();
            var flight = new Flight();
            flight.Task = workers.Run(cancellation =>
            {
                try
                {
                    return build(version, cancellation);
                }
                finally
                {
                    // Set before the task completes, so whoever sees it failed also sees when.
                    Volatile.Write(ref flight.FinishedAt, time.GetTimestamp());
                }
            });
            _flights[version] = flight;
            _started++;
            return flight.Task;
        }
    }

    /// <summary>The artifact when it is made, without starting a build; null when it is not (yet) there.</summary>
    public T? TryGet(ObjectId version) =>
        Current(version) is { IsCompletedSuccessfully: true } done ? done.Result : tryCached(version);

    /// <summary>Why the last build of VERSION failed, while that is remembered; null otherwise.</summary>
    public string? Failure(ObjectId version) =>
        Current(version) is { IsFaulted: true } failed ? failed.Exception!.InnerException!.Message : null;

    private Task<T>? Current(ObjectId version)
    {
        lock (_lock)
        {
            return CurrentLocked(version);
        }
    }

    /// <summary>The build to share: one running, or one that failed recently. A finished success is found through the cache.</summary>
    private Task<T>? CurrentLocked(ObjectId version) =>
        _flights.TryGetValue(version, out var flight) && (!flight.Task.IsCompleted || (flight.Task.IsFaulted && Fresh(flight)))
            ? flight.Task
            : null;

    private bool Fresh(Flight flight) => time.GetElapsedTime(Volatile.Read(ref flight.FinishedAt)) < VersionArtifacts.FailureKeptFor;

    /// <summary>Drops the builds that are over and no longer shared, so the table holds only what is running or remembered.</summary>
    private void ForgetFinished()
    {
        foreach (var (version, flight) in _flights.Where(f => f.Value.Task.IsCompleted && !(f.Value.Task.IsFaulted && Fresh(f.Value))).ToList())
        {
            _flights.Remove(version);
        }
    }

    private sealed class Flight
    {
        public Task<T> Task = null!;
        public long FinishedAt;
    }
}
