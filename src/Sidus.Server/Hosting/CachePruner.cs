using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>
/// Removes, when the server starts and every <see cref="Interval"/>, the cached boot files that can no longer be
/// served: the Sidus initramfs files of another agent, an older builder or a removed version
/// (<see cref="AgentInitramfs.Prune"/>; ram nodes use them with NBD off too) and, with NBD on, the erofs exports of
/// removed versions once no node has them open (<see cref="ErofsExports.Prune"/>).
/// </summary>
internal sealed class CachePruner(AgentInitramfs agentBoot, ErofsExports? exports, ILogger<CachePruner> logger) : BackgroundService
{
    /// <summary>How often stale files are looked for (gc is rare; a stale file only costs disk).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                await Task.Run(() => PruneOnce(stoppingToken), stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void PruneOnce(CancellationToken stopping)
    {
        try
        {
            agentBoot.Prune();
        }
        catch (Exception e) when (LoopErrors.Survivable(e, stopping))
        {
            ServerLog.ServiceFailed(logger, "boot cache pruning", e.Message);
        }

        try
        {
            exports?.Prune();
        }
        catch (Exception e) when (LoopErrors.Survivable(e, stopping))
        {
            ServerLog.ServiceFailed(logger, "NBD export pruning", e.Message);
        }
    }
}
