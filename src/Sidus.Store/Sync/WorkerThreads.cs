using System.Runtime.ExceptionServices;

namespace Sidus.Store.Sync;

/// <summary>
/// A parallel loop on a bounded set of plain threads, one per core, the calling thread among them. For work that
/// blocks on files (hashing what is already at a target), where Parallel.ForEach adds nothing but size: its
/// machinery costs the NativeAOT node agent, which links the sync engine, over 100 KiB.
/// </summary>
internal static class WorkerThreads
{
    /// <summary>Runs BODY for each of ITEMS; the first exception stops the loop and is rethrown once every thread is done.</summary>
    public static void ForEach<T>(IReadOnlyList<T> items, Action<T> body, CancellationToken cancellation)
    {
        var next = -1;
        ExceptionDispatchInfo? failure = null;
        void Work()
        {
            try
            {
                for (int i; Volatile.Read(ref failure) is null && (i = Interlocked.Increment(ref next)) < items.Count;)
                {
                    cancellation.ThrowIfCancellationRequested();
                    body(items[i]);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        var helpers = new Thread[Math.Max(0, Math.Min(Environment.ProcessorCount, items.Count) - 1)];
        for (var i = 0; i < helpers.Length; i++)
        {
            helpers[i] = new Thread(Work) { IsBackground = true, Name = $"sync worker {i + 1}" };
            helpers[i].Start();
        }

        Work();
        foreach (var helper in helpers)
        {
            helper.Join();
        }

        failure?.Throw();
    }
}
