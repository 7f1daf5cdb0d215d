using System.Runtime;

namespace Sidus.Agent.Update;

/// <summary>
/// No garbage collection while an update runs, when the machine has the memory for it. An update allocates a bounded
/// amount (its manifest, the tree, two state caches, the drift scan's listings: about 60 MiB for an image of 11,000
/// files) and keeps nearly all of it to its end, so each collection only copied what had survived so far: it was half
/// of the sync's walk. The pause ends by itself once its budget is spent (an install of a large image), and
/// collections then run as usual. The heap asks for transparent huge pages first (<see cref="HeapHugePages"/>): the
/// budget is fresh memory, and filled 4 KiB a fault it cost an update a quarter of its CPU.
/// </summary>
internal sealed class CollectionPause : IDisposable
{
    private const long MaxBudget = 128L << 20;

    private readonly bool _started;

    private CollectionPause(bool started) => _started = started;

    /// <summary>Pauses collections for a budget of at most 128 MiB and a sixteenth of the memory; none below 32 MiB.</summary>
    public static CollectionPause Start()
    {
        // Before the budget is committed: the advice holds for the reservation it is committed from.
        HeapHugePages.Advise();
        var budget = Math.Min(MaxBudget, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 16);
        try
        {
            return new CollectionPause(budget >= 32L << 20 && GC.TryStartNoGCRegion(budget));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            // Paused already (another update in the same service), or more than this runtime allows: run as usual.
            return new CollectionPause(false);
        }
    }

    public void Dispose()
    {
        try
        {
            if (_started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
        catch (InvalidOperationException)
        {
            // The budget ran out and a collection ended the pause on its own.
        }
    }
}
