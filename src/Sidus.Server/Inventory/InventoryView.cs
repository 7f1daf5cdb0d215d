using Sidus.Nodes.Storage;

namespace Sidus.Server.Inventory;

/// <summary>
/// The inventory as the boot paths see it: the open store and the current snapshot. Readers take <see cref="Current"/>
/// once per request and use that one object, so a reload in between never mixes two versions in one answer.
/// </summary>
public sealed class InventoryView(InventoryStore store, InventorySnapshot initial)
{
    private InventorySnapshot _current = initial;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InventoryStore Store { get; } = store;

    public InventorySnapshot Current => Volatile.Read(ref _current);

    /// <summary>
    /// Completes when a newer snapshot is put in place. Take it before reading <see cref="Current"/>, so a swap in
    /// between is never missed.
    /// </summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Puts <paramref name="snapshot"/> in place if it is newer than the current one.</summary>
    public bool Swap(InventorySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        while (true)
        {
            var current = Volatile.Read(ref _current);
            if (snapshot.Version <= current.Version)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _current, snapshot, current) == current)
            {
                Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                return true;
            }
        }
    }
}
