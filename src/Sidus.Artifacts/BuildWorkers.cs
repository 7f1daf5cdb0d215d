namespace Sidus.Artifacts;

/// <summary>
/// A fixed number of dedicated threads that run artifact builds (seconds to minutes of disk and CPU each), so a
/// build never occupies a thread-pool thread that requests and timers need, and no more builds run at once than
/// there are workers. Queued work runs in order; what is queued when the workers stop is cancelled.
/// </summary>
internal sealed class BuildWorkers : IDisposable
{
    private readonly BlockingCollection<Action> _queue = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread[] _threads;

    public BuildWorkers(int count, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"{name} {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Fires when the workers stop: a build in progress gives up at its next check.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Queues BUILD; the task completes with its result or exception (continuations never run on a worker).</summary>
    public Task<T> Run<T>(Func<CancellationToken, T> build)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Job()
        {
            if (_stopping.IsCancellationRequested)
            {
                done.TrySetCanceled(_stopping.Token);
                return;
            }

            try
            {
                done.TrySetResult(build(_stopping.Token));
            }
            catch (OperationCanceledException e)
            {
                done.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                // Handed to whoever awaits the build; the worker goes on with the next one.
                done.TrySetException(e);
            }
        }

        try
        {
            _queue.Add(Job);
        }
        catch (InvalidOperationException)
        {
            done.TrySetCanceled(_stopping.Token);
        }

        return done.Task;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
        _stopping.Dispose();
    }

    private void Work()
    {
        foreach (var job in _queue.GetConsumingEnumerable())
        {
            job();
        }
    }
}
