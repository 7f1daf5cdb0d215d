using Sidus.Store.Import;
using Sidus.Store.Objects;
using Sidus.Store.Sync;

namespace Sidus.Store.Checkout;

/// <summary>What a sync did (or, on a dry run, would do) to one path.</summary>
public enum SyncAction
{
    Create,
    Replace,
    Update,
    Metadata,
    Delete,
    Link,
}

/// <summary>How a path of the target changed since the last sync recorded in its state cache.</summary>
public enum DriftKind
{
    /// <summary>Not there at the last sync.</summary>
    Added,

    /// <summary>Left by the last sync, gone now.</summary>
    Removed,

    /// <summary>Its data, size or modification time changed, or it was replaced.</summary>
    Modified,

    /// <summary>Only its owner, mode or extended attributes changed (its ctime moved).</summary>
    Metadata,
}

public sealed record CheckoutOptions
{
    /// <summary>List what would change without changing anything.</summary>
    public bool DryRun { get; init; }

    /// <summary>Ignore the state cache: re-hash every existing file before trusting it.</summary>
    public bool Checksum { get; init; }

    /// <summary>Called for every change (from several threads).</summary>
    public Action<SyncAction, byte[]>? OnChange { get; init; }

    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>
    /// When set, an extended attribute the target's filesystem refuses (EOPNOTSUPP or EPERM: tmpfs before Linux 6.6
    /// takes no user.* attributes) is named here and left out, instead of failing the sync.
    /// </summary>
    public Action<byte[]>? OnXattrRefused { get; init; }

    /// <summary>Paths left alone: neither written, deleted nor reported (<see cref="SyncExcludes"/>).</summary>
    public SyncExcludes Excludes { get; init; } = SyncExcludes.None;

    /// <summary>Names the tree does not have stay in the target.</summary>
    public bool NoDelete { get; init; }

    /// <summary>
    /// Never cross into another filesystem: a name of the target on another device than the target itself (a
    /// preserved /data mounted there, /proc) is neither entered, written nor deleted.
    /// </summary>
    public bool StayOnFilesystem { get; init; }

    /// <summary>
    /// When set, the target is first compared with what the last sync left (its state cache), before anything is
    /// changed: every path changed since is named here. Without a state cache nothing is known
    /// (<see cref="CheckoutResult.DriftKnown"/> is false).
    /// </summary>
    public Action<DriftKind, byte[]>? OnDrift { get; init; }

    /// <summary>With <see cref="OnDrift"/>: drifted paths are left as they are (as if excluded) instead of being made equal to the tree.</summary>
    public bool KeepDrift { get; init; }

    /// <summary>The drift scan of the target, when the caller ran it already (an update runs it while the manifest
    /// comes): the sync takes its findings instead of scanning again. The caller disposes it after the sync.</summary>
    public DriftScan? Scan { get; init; }

    /// <summary>The state cache's file, instead of one kept under the cache directory by the target's path: an
    /// installed node's root is synced at one mount point by the install and at "/" by its updates.</summary>
    public string? StateFile { get; init; }

    /// <summary>What <see cref="StateFile"/> holds, when the caller has read it already (the update's early request
    /// does): not read a second time. Null: read here.</summary>
    public StateCache? LastState { get; init; }

    /// <summary>
    /// When above zero, the target's filesystem is flushed (syncfs) in the background each time this many more bytes
    /// were written, so that the disk writes while the sync still decompresses and checks, and the caller's final
    /// flush finds little left. A write-back error it meets fails the sync. Zero: the sync flushes nothing.
    /// </summary>
    public long FlushEvery { get; init; }
}

public sealed record CheckoutResult(long Created, long Updated, long Deleted, long Unchanged, long BytesWritten)
{
    /// <summary>Whether the drift scan (<see cref="CheckoutOptions.OnDrift"/>) had the last sync's record to compare with.</summary>
    public bool DriftKnown { get; init; }

    /// <summary>Paths the drift scan found changed since the last sync.</summary>
    public long Drifted { get; init; }

    /// <summary>From <see cref="TreeSync.Drift"/>: the target is exactly what the last sync left (no drift, no
    /// directory touched), so a sync to the same version with the same excludes has nothing to do.</summary>
    public bool Exact { get; init; }

    /// <summary>From <see cref="TreeSync.Drift"/>: the version the last sync made the target equal to.</summary>
    public ObjectId? LastVersion { get; init; }
}
