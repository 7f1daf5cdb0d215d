namespace Sidus.Server.Hosting;

/// <summary>
/// Whether the server still does its job: every essential boot listener that was bound is still serving. The first
/// failure is kept; the watchdog stops vouching for the server from then on, and <c>sidus serve</c> exits non-zero
/// so a service manager restarts it.
/// </summary>
public sealed class ServerHealth
{
    private string? _failure;

    /// <summary>What failed first ("TFTP stopped: ..."), or null while healthy.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    public bool IsHealthy => Failure is null;

    /// <summary>Records that <paramref name="service"/> stopped serving; only the first failure is kept.</summary>
    public void ReportFailure(string service, string reason) =>
        Interlocked.CompareExchange(ref _failure, $"{service} stopped: {reason}", null);
}
