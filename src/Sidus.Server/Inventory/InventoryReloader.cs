using System.Data.Common;
using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Inventory;

/// <summary>
/// Polls the inventory's change counter and swaps in a fresh snapshot when it moves, so edits made with
/// `sidus node ...` (or on another server sharing PostgreSQL) take effect without a restart. The interval is read
/// again at every tick, so a configuration reload changes it.
/// </summary>
public sealed class InventoryReloader(InventoryView view, Func<TimeSpan> interval, ILogger<InventoryReloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval());
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReloadIfChangedAsync(stoppingToken);
                }
                catch (Exception e) when (Hosting.LoopErrors.Survivable(e, stoppingToken))
                {
                    ServerLog.InventoryReloadFailed(logger, view.Current.Version, e.Message);
                }
                if (interval() is var next && next != timer.Period)
                {
                    timer.Period = next;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>One poll: returns true when a newer snapshot was put in place.</summary>
    public async Task<bool> ReloadIfChangedAsync(CancellationToken ct)
    {
        var current = view.Current;
        try
        {
            if (await view.Store.GetVersionAsync(ct) == current.Version)
            {
                return false;
            }

            var snapshot = await view.Store.LoadAsync(ct);
            if (!view.Swap(snapshot))
            {
                return false;
            }

            ServerLog.InventoryReloaded(logger, snapshot.Nodes.Length, snapshot.Groups.Length, snapshot.Version);
            return true;
        }
        catch (Exception e) when (e is DbException or IOException or InventoryException or TimeoutException)
        {
            // A database that is briefly locked or unreachable: keep serving the snapshot we have, try next tick.
            ServerLog.InventoryReloadFailed(logger, current.Version, e.Message);
            return false;
        }
    }
}
