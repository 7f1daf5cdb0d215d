using Sidus.Store.Import;

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
}

public sealed record CheckoutResult(long Created, long Updated, long Deleted, long Unchanged, long BytesWritten);
