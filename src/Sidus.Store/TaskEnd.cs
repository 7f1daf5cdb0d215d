namespace Sidus.Store;

/// <summary>Waiting for work that must not be left running, where its own failure is reported elsewhere (or is the
/// lesser one).</summary>
public static class TaskEnd
{
    /// <summary>Blocks until TASK has ended, whether it succeeded, failed or was cancelled; never throws.</summary>
    public static void WaitEnded(this Task task) => task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
}
