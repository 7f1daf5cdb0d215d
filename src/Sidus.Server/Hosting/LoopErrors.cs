namespace Sidus.Server.Hosting;

/// <summary>
/// Which errors a background loop (inventory reloads, event recording, warming, pruning) logs and outlives: every one
/// but the runtime out of memory and the loop being stopped. A loop waits its interval before trying again, so an
/// error that repeats is a log line per interval, never a spin; and one bad round (a full disk, a locked database,
/// descriptors gone for a moment) never takes DHCP, TFTP, NBD and HTTP down with it.
/// </summary>
internal static class LoopErrors
{
    public static bool Survivable(Exception e, CancellationToken stopping) =>
        e is not OutOfMemoryException && !(e is OperationCanceledException && stopping.IsCancellationRequested);
}
