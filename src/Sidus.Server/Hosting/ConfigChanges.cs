namespace Sidus.Server.Hosting;

/// <summary>One setting that differs between the running configuration and the one just read.</summary>
/// <param name="Setting">Its name as in sidus.toml ("boot.menu-timeout", "interface eth1.pools").</param>
/// <param name="Live">True when a reload applies it; false when it needs a restart.</param>
public sealed record ConfigChange(string Setting, string Old, string New, bool Live)
{
    public override string ToString() => $"{Setting} {Old} -> {New}";
}

/// <summary>
/// What a reload may change while the server runs, written once. Live: log-level, inventory-poll, the boot script
/// settings, overrides.allow-unverified, api.public-reads, and each DHCP interface's pools, router, dns, domain and lease-time (the
/// server keeps its sockets and leases). Everything sockets, files or built pieces depend on needs a restart: home,
/// database, every listen address and port, tftp/nbd on or off and their directories, nbd.address, boot.agent, the
/// override directories, the [dhcp] defences, and which interfaces are served, in which mode, with which address.
/// </summary>
public static class ConfigChanges
{
    /// <summary>Every setting that differs, live ones first in file order, then those that need a restart.</summary>
    public static IReadOnlyList<ConfigChange> Between(ServeOptions running, ServeOptions loaded)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(loaded);
        var changes = new List<ConfigChange>();

        void Compare(string setting, object? old, object? now, bool live)
        {
            var (a, b) = (Text(old), Text(now));
            if (a != b)
            {
                changes.Add(new ConfigChange(setting, a, b, live));
            }
        }

        Compare("home", running.Home, loaded.Home, false);
        Compare("database", running.Database, loaded.Database, false);
        Compare("log-level", running.LogLevel, loaded.LogLevel, true);
        Compare("inventory-poll", running.InventoryPollInterval, loaded.InventoryPollInterval, true);
        Compare("group", running.Group, loaded.Group, false);
        Compare("api.public-reads", running.Api.PublicReads, loaded.Api.PublicReads, true);
        Compare("api.public-metrics", running.Api.PublicMetrics, loaded.Api.PublicMetrics, true);
        Compare("http.listen", running.Http.Listen, loaded.Http.Listen, false);
        Compare("http.port", running.Http.Port, loaded.Http.Port, false);
        Compare("tftp.enabled", running.Tftp.Enabled, loaded.Tftp.Enabled, false);
        Compare("tftp.listen", running.Tftp.Listen, loaded.Tftp.Listen, false);
        Compare("tftp.port", running.Tftp.Port, loaded.Tftp.Port, false);
        Compare("tftp.ipxe-directory", running.Tftp.IpxeDirectory, loaded.Tftp.IpxeDirectory, false);
        Compare("tftp.root", running.Tftp.Root, loaded.Tftp.Root, false);
        Compare("nbd.enabled", running.Nbd.Enabled, loaded.Nbd.Enabled, false);
        Compare("nbd.listen", running.Nbd.Listen, loaded.Nbd.Listen, false);
        Compare("nbd.port", running.Nbd.Port, loaded.Nbd.Port, false);
        Compare("nbd.address", running.Nbd.Address, loaded.Nbd.Address, false);
        Compare("boot.download-attempts", running.Boot.DownloadAttempts, loaded.Boot.DownloadAttempts, true);
        Compare("boot.retry-delay", running.Boot.RetryDelay, loaded.Boot.RetryDelay, true);
        Compare("boot.ask-again-attempts", running.Boot.AskAgainAttempts, loaded.Boot.AskAgainAttempts, true);
        Compare("boot.ask-again-delay", running.Boot.AskAgainDelay, loaded.Boot.AskAgainDelay, true);
        Compare("boot.menu-timeout", running.Boot.MenuTimeout, loaded.Boot.MenuTimeout, true);
        Compare("boot.agent", running.Boot.AgentPath, loaded.Boot.AgentPath, false);
        Compare("overrides.directory", running.Overrides.Directory, loaded.Overrides.Directory, false);
        Compare("overrides.state", running.Overrides.State, loaded.Overrides.State, false);
        Compare("overrides.allow-unverified", running.Overrides.AllowUnverified, loaded.Overrides.AllowUnverified, true);
        Compare("dhcp", DhcpText(running.Dhcp), DhcpText(loaded.Dhcp), false);
        Compare("limits", running.Limits, loaded.Limits, false);

        foreach (var name in running.Interfaces.Select(i => i.Name).Union(loaded.Interfaces.Select(i => i.Name), StringComparer.Ordinal))
        {
            var (old, now) = (Find(running, name), Find(loaded, name));
            var where = $"interface {name}";
            if (old is null || now is null)
            {
                Compare(where, old is null ? null : "dhcp " + Text(old.Dhcp), now is null ? null : "dhcp " + Text(now.Dhcp), false);
                continue;
            }

            Compare(where + ".dhcp", old.Dhcp, now.Dhcp, false);
            Compare(where + ".address", Address(old), Address(now), false);
            Compare(where + ".pools", old.Pools, now.Pools, true);
            Compare(where + ".router", old.Router, now.Router, true);
            Compare(where + ".dns", old.Dns, now.Dns, true);
            Compare(where + ".domain", old.Domain, now.Domain, true);
            Compare(where + ".lease-time", old.LeaseTime, now.LeaseTime, true);
        }

        return [.. changes.Where(c => c.Live), .. changes.Where(c => !c.Live)];
    }

    /// <summary>
    /// The running configuration with the live settings of <paramref name="loaded"/> put in; settings that need a
    /// restart keep their running values (an interface whose mode changed keeps all of its own).
    /// </summary>
    public static ServeOptions Apply(ServeOptions running, ServeOptions loaded)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(loaded);
        return running with
        {
            LogLevel = loaded.LogLevel,
            InventoryPollInterval = loaded.InventoryPollInterval,
            Boot = loaded.Boot with { AgentPath = running.Boot.AgentPath },
            Overrides = running.Overrides with { AllowUnverified = loaded.Overrides.AllowUnverified },
            Api = loaded.Api,
            Interfaces = [.. running.Interfaces.Select(old => Find(loaded, old.Name) is { } now && now.Dhcp == old.Dhcp
                ? old with { Pools = now.Pools, Router = now.Router, Dns = now.Dns, Domain = now.Domain, LeaseTime = now.LeaseTime }
                : old)],
        };
    }

    /// <summary>The [dhcp] table in one line (its settings are read when the DHCP servers start).</summary>
    private static string DhcpText(DhcpSettings d) => string.Create(CultureInfo.InvariantCulture,
        $"offer-hold {d.OfferHold.TotalSeconds}, unknown-offer-hold {d.UnknownOfferHold.TotalSeconds}, decline-quarantine {d.DeclineQuarantine.TotalSeconds}, declines-per-client {d.DeclinesPerClient}, decline-share {d.DeclineShare}, max-discovered-per-network {d.Discovered.PerNetwork}, max-discovered {d.Discovered.Total}, unknown-records-per-minute {d.UnknownRecordsPerMinute}");

    private static InterfaceSettings? Find(ServeOptions options, string name) => options.Interfaces.FirstOrDefault(i => i.Name == name);

    private static string? Address(InterfaceSettings i) =>
        i.Address is null ? null : i.Subnet is { } subnet ? $"{i.Address}/{subnet.PrefixLength.ToString(CultureInfo.InvariantCulture)}" : i.Address.ToString();

    /// <summary>A value as sidus.toml writes it: seconds for durations, lists comma-separated, "(none)" for unset.</summary>
    private static string Text(object? value) => value switch
    {
        null => "(none)",
        string s => s.Length == 0 ? "(none)" : s,
        bool b => b ? "true" : "false",
        TimeSpan t => t.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        LogLevel l => ServeConfigFile.LogLevelName(l),
        DhcpService d => d.ToString().ToLowerInvariant(),
        System.Collections.IEnumerable list => string.Join(", ", list.Cast<object>().Select(Text)) is { Length: > 0 } joined ? joined : "(none)",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "(none)",
    };
}
