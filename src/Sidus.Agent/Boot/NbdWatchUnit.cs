namespace Sidus.Agent.Boot;

/// <summary>The systemd unit that runs <c>agent nbd-watch</c> in the booted system of a shared node.</summary>
internal static class NbdWatchUnit
{
    public const string UnitName = "sidus-nbd-watch.service";

    /// <summary>
    /// The unit that runs the watcher, as a runtime unit under RUN/systemd/system (switch_root moves /run into the
    /// booted system, and systemd reads units there before /etc): nothing is written into the root itself, so a
    /// disk upper layer keeps no stale unit. DefaultDependencies=no: it starts with sysinit and is not stopped by the
    /// shutdown transaction; "@" in argv[0] spares it from systemd-shutdown's final killing spree (the storage-daemon
    /// convention), so it can still reconnect while the root is remounted read-only. AGENT is the copy of the
    /// agent in /run (tmpfs), not on the root it watches.
    /// </summary>
    public static void Install(string run, string agent)
    {
        var units = Path.Combine(run, "systemd/system");
        var wants = Path.Combine(units, "sysinit.target.wants");
        Directory.CreateDirectory(wants);
        File.WriteAllText(Path.Combine(units, UnitName), new StringBuilder()
            .Append("[Unit]\nDescription=Sidus: reconnect the root's NBD export when its server comes back\n")
            .Append("DefaultDependencies=no\n\n")
            .Append("[Service]\nExecStart=@").Append(agent).Append(" @sidus-nbd-watch nbd-watch\n")
            .Append("Restart=on-failure\nRestartSec=5\nStandardOutput=journal+console\n")
            .ToString());
        var link = Path.Combine(wants, UnitName);
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, "../" + UnitName);
        }
    }
}
