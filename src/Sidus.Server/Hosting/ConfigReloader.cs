using Sidus.Server.Dhcp;

namespace Sidus.Server.Hosting;

/// <summary>What a reload did.</summary>
/// <param name="Error">Why the configuration read was refused (then nothing changed), or null.</param>
public sealed record ReloadResult(IReadOnlyList<ConfigChange> Applied, IReadOnlyList<ConfigChange> NeedRestart, string? Error)
{
    public bool Refused => Error is not null;
}

/// <summary>
/// A reload (SIGHUP, <c>systemctl reload sidus</c>): reads the configuration again, puts in place what can change
/// while the server runs (<see cref="ConfigChanges"/>), names what needs a restart and keeps its running value, reads
/// the inventory again. Listeners, leases and running transfers are untouched; a configuration with an error is
/// refused as a whole and the server keeps the one it runs. The service manager hears RELOADING=1, then READY=1.
/// </summary>
public sealed class ConfigReloader(
    Func<ServeOptions> load,
    RunningOptions running,
    LogLevelSwitch level,
    IEnumerable<IBootListener> listeners,
    InventoryReloader inventory,
    SystemdNotifier notifier,
    Func<string> status,
    ILogger logger)
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public async Task<ReloadResult> ReloadAsync(CancellationToken ct)
    {
        await _one.WaitAsync(ct);
        try
        {
            notifier.Reloading();
            var result = Reload();
            await inventory.ReloadIfChangedAsync(ct);
            return result;
        }
        finally
        {
            notifier.Ready(status());
            _one.Release();
        }
    }

    private ReloadResult Reload()
    {
        var current = running.Current;
        ServeOptions loaded, applied;
        IReadOnlyList<(DhcpListener Listener, Sidus.Wire.Dhcp.DhcpServerOptions Options)> dhcp;
        try
        {
            loaded = load();
            applied = ConfigChanges.Apply(current, loaded);

            // Both must be sound: the file as it would start the server, and what is applied to this one.
            foreach (var i in loaded.Interfaces.Where(i => i.Dhcp != DhcpService.Off))
            {
                ServeSetup.DhcpOptions(loaded, i);
            }

            dhcp = [.. listeners.OfType<DhcpListener>().Select(l => (l, ServeSetup.DhcpOptions(applied, applied.Interfaces.First(i => i.Name == l.InterfaceName))))];
        }
        catch (Exception e) when (e is ServeConfigException or IOException or UnauthorizedAccessException)
        {
            ServerLog.ReloadRefused(logger, e.Message);
            return new ReloadResult([], [], e.Message);
        }

        var changes = ConfigChanges.Between(current, loaded);
        running.Current = applied;
        level.Level = applied.LogLevel;
        foreach (var (listener, options) in dhcp)
        {
            listener.Reconfigure(options);
        }

        var live = changes.Where(c => c.Live).ToArray();
        var restart = changes.Where(c => !c.Live).ToArray();
        var source = loaded.ConfigFile ?? "the command line";
        ServerLog.Reloaded(logger, source, live.Length == 0 ? "nothing to change" : string.Join("; ", live.Select(c => c.ToString())));
        if (restart.Length > 0)
        {
            ServerLog.ReloadNeedsRestart(logger, string.Join("; ", restart.Select(c => c.ToString())));
        }

        return new ReloadResult(live, restart, null);
    }
}
