using System.Data.Common;
using Microsoft.Extensions.Hosting;
using Sidus.Nodes.Overrides;

namespace Sidus.Server.Inventory;

/// <summary>
/// Polls the inventory's change counter and swaps in a fresh snapshot when it moves, so edits made with
/// `sidus node ...` (or on another server sharing PostgreSQL) take effect without a restart. The interval is read
/// again at every tick, so a configuration reload changes it. At start and after each reload it warns about override
/// folders that match no group or node (once per change of that list).
/// </summary>
public sealed class InventoryReloader(InventoryView view, Func<TimeSpan> interval, ILogger<InventoryReloader> logger, OverrideLocations? overrides = null)
    : BackgroundService
{
    private string _lastWarnings = string.Empty;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WarnAboutOverrideFolders();
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
            WarnAboutOverrideFolders();
            return true;
        }
        catch (Exception e) when (e is DbException or IOException or InventoryException or TimeoutException)
        {
            // A database that is briefly locked or unreachable: keep serving the snapshot we have, try next tick.
            ServerLog.InventoryReloadFailed(logger, current.Version, e.Message);
            return false;
        }
    }

    private void WarnAboutOverrideFolders()
    {
        if (overrides is null)
        {
            return;
        }

        try
        {
            var warnings = OverrideFolders.Unmatched(overrides, view.Current);
            var joined = string.Join('\n', warnings);
            if (joined == _lastWarnings)
            {
                return;
            }

            _lastWarnings = joined;
            foreach (var warning in warnings)
            {
                ServerLog.OverrideFolderUnmatched(logger, warning);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ServerLog.OverrideFolderUnmatched(logger, $"{overrides.Root} cannot be read: {e.Message}");
        }
    }
}
