using Tomlyn;
using Tomlyn.Model;

namespace Sidus.Server.Configuration;

/// <summary>
/// Reads sidus.toml (see docs/serve.md). Every key is known: a misspelt one is an error naming the line's table and
/// key, not a silently ignored setting. Durations are whole seconds.
/// </summary>
public static class ServeConfigFile
{
    /// <summary>Largest configuration file read; a real one is a few hundred bytes.</summary>
    public const int MaxFileLength = 1 << 20;

    /// <summary>Where `sidus serve` looks when no --config is given (after &lt;home&gt;/sidus.toml).</summary>
    public const string SystemPath = "/etc/sidus/sidus.toml";

    public static ServeOptions Load(string path, ServeOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ServeConfigException($"configuration file {path} does not exist");
        }

        if (info.Length > MaxFileLength)
        {
            throw new ServeConfigException($"configuration file {path} is {info.Length} bytes; a sidus.toml is at most {MaxFileLength}");
        }

        return Parse(File.ReadAllText(path), path, defaults);
    }

    /// <summary>"sidus.toml:3:7: not valid TOML: WHAT": the place and the parser's own words, not its stack of types.</summary>
    private static string SyntaxError(string source, TomlException e)
    {
        // The converter wraps the parser's own exception: the innermost one has the place and the plain words.
        while (e.InnerException is TomlException inner)
        {
            e = inner;
        }

        var what = e.Diagnostics?.FirstOrDefault()?.Message ?? e.Message;
        var where = e.Line is { } line ? $"{source}:{line}:{e.Column ?? 1}" : source;
        return $"{where}: not valid TOML: {what.TrimEnd('.')}";
    }

    public static ServeOptions Parse(string text, string source, ServeOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text, ServeTomlContext.Default) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new ServeConfigException(SyntaxError(source, e), e);
        }

        var r = new TableReader(root, source, string.Empty);
        var options = defaults with
        {
            Home = r.String("home") is { } home ? Path.GetFullPath(home) : defaults.Home,
            Database = r.String("database") ?? defaults.Database,
            InventoryPollInterval = r.Seconds("inventory-poll") ?? defaults.InventoryPollInterval,
            LogLevel = r.String("log-level") is { } level ? ParseLogLevel(level, $"{source}: log-level") : defaults.LogLevel,
            Group = r.String("group") is { } group ? ParseGroup(group, source) : defaults.Group,
        };

        if (r.Table("api") is { } api)
        {
            options = options with
            {
                Api = options.Api with
                {
                    PublicReads = api.Bool("public-reads") ?? options.Api.PublicReads,
                    PublicMetrics = api.Bool("public-metrics") ?? options.Api.PublicMetrics,
                },
            };
            api.RejectUnknown("public-reads", "public-metrics");
        }

        if (r.Table("http") is { } http)
        {
            options = options with
            {
                Http = options.Http with
                {
                    Listen = http.Address("listen") ?? options.Http.Listen,
                    Port = http.Port("port") ?? options.Http.Port,
                },
            };
            http.RejectUnknown("listen", "port");
        }

        if (r.Table("tftp") is { } tftp)
        {
            options = options with
            {
                Tftp = options.Tftp with
                {
                    Enabled = tftp.Bool("enabled") ?? options.Tftp.Enabled,
                    Listen = tftp.Address("listen") ?? options.Tftp.Listen,
                    Port = tftp.Port("port") ?? options.Tftp.Port,
                    IpxeDirectory = tftp.String("ipxe-directory") ?? options.Tftp.IpxeDirectory,
                    Root = tftp.String("root") ?? options.Tftp.Root,
                },
            };
            tftp.RejectUnknown("enabled", "listen", "port", "ipxe-directory", "root");
        }

        if (r.Table("nbd") is { } nbd)
        {
            options = options with
            {
                Nbd = options.Nbd with
                {
                    Enabled = nbd.Bool("enabled") ?? options.Nbd.Enabled,
                    Listen = nbd.Address("listen") ?? options.Nbd.Listen,
                    Port = nbd.Port("port") ?? options.Nbd.Port,
                    Address = nbd.Address("address") ?? options.Nbd.Address,
                },
            };
            nbd.RejectUnknown("enabled", "listen", "port", "address");
        }

        if (r.Table("boot") is { } boot)
        {
            options = options with
            {
                Boot = options.Boot with
                {
                    DownloadAttempts = boot.Count("download-attempts", 1, 20) ?? options.Boot.DownloadAttempts,
                    RetryDelay = boot.Seconds("retry-delay") ?? options.Boot.RetryDelay,
                    AskAgainAttempts = boot.Count("ask-again-attempts", 0, 1000) ?? options.Boot.AskAgainAttempts,
                    AskAgainDelay = boot.Seconds("ask-again-delay") ?? options.Boot.AskAgainDelay,
                    MenuTimeout = boot.Seconds("menu-timeout") ?? options.Boot.MenuTimeout,
                    AgentPath = boot.String("agent") is { } agent ? Path.GetFullPath(agent) : options.Boot.AgentPath,
                },
            };
            boot.RejectUnknown("download-attempts", "retry-delay", "ask-again-attempts", "ask-again-delay", "menu-timeout", "agent");
        }

        if (r.Table("overrides") is { } overrides)
        {
            options = options with
            {
                Overrides = options.Overrides with
                {
                    Directory = overrides.String("directory") is { } d ? Path.GetFullPath(d) : options.Overrides.Directory,
                    State = overrides.String("state") is { } st ? Path.GetFullPath(st) : options.Overrides.State,
                    AllowUnverified = overrides.Bool("allow-unverified") ?? options.Overrides.AllowUnverified,
                },
            };
            overrides.RejectUnknown("directory", "state", "allow-unverified");
        }

        if (r.Table("dhcp") is { } dhcp)
        {
            options = options with { Dhcp = ReadDhcp(dhcp, options.Dhcp) };
        }

        if (r.Table("limits") is { } limits)
        {
            options = options with
            {
                Limits = options.Limits with
                {
                    MaxConnections = limits.Count("max-connections", 0, 1_000_000) ?? options.Limits.MaxConnections,
                    HttpConnectionsPerSource = limits.Count("http-connections-per-source", 1, 100_000) ?? options.Limits.HttpConnectionsPerSource,
                    NbdConnectionsPerSource = limits.Count("nbd-connections-per-source", 1, 100_000) ?? options.Limits.NbdConnectionsPerSource,
                    HttpIdleTimeout = limits.Seconds("http-idle-timeout") ?? options.Limits.HttpIdleTimeout,
                    HttpHeadersTimeout = limits.Seconds("http-headers-timeout") ?? options.Limits.HttpHeadersTimeout,
                    NbdHandshakeTimeout = limits.Seconds("nbd-handshake-timeout") ?? options.Limits.NbdHandshakeTimeout,
                    TftpTransfersPerSource = limits.Count("tftp-transfers-per-source", 0, 100_000) ?? options.Limits.TftpTransfersPerSource,
                    TftpRequestsPerSecond = limits.Count("tftp-requests-per-second", 0, 100_000) ?? options.Limits.TftpRequestsPerSecond,
                },
            };
            limits.RejectUnknown(
                "max-connections", "http-connections-per-source", "nbd-connections-per-source", "http-idle-timeout", "http-headers-timeout",
                "nbd-handshake-timeout", "tftp-transfers-per-source", "tftp-requests-per-second");
        }

        if (r.Tables("interface") is { } interfaces)
        {
            options = options with { Interfaces = [.. interfaces.Select(ReadInterface)] };
        }

        r.RejectUnknown("home", "database", "inventory-poll", "log-level", "group", "api", "http", "tftp", "nbd", "boot", "overrides", "dhcp", "limits", "interface");
        return options;
    }

    private static DhcpSettings ReadDhcp(TableReader t, DhcpSettings defaults)
    {
        var settings = defaults with
        {
            OfferHold = t.Seconds("offer-hold") ?? defaults.OfferHold,
            UnknownOfferHold = t.Seconds("unknown-offer-hold") ?? defaults.UnknownOfferHold,
            DeclineQuarantine = t.Seconds("decline-quarantine") ?? defaults.DeclineQuarantine,
            DeclinesPerClient = t.Count("declines-per-client", 0, 1000) ?? defaults.DeclinesPerClient,
            DeclineShare = t.Count("decline-share", 0, 100) ?? defaults.DeclineShare,
            Discovered = new Sidus.Nodes.DiscoveryLimits(
                t.Count("max-discovered-per-network", 0, 1_000_000) ?? defaults.Discovered.PerNetwork,
                t.Count("max-discovered", 0, 1_000_000) ?? defaults.Discovered.Total),
            UnknownRecordsPerMinute = t.Count("unknown-records-per-minute", 0, 100_000) ?? defaults.UnknownRecordsPerMinute,
        };
        t.RejectUnknown("offer-hold", "unknown-offer-hold", "decline-quarantine", "declines-per-client", "decline-share",
            "max-discovered-per-network", "max-discovered", "unknown-records-per-minute");
        return settings;
    }

    private static InterfaceSettings ReadInterface(TableReader t)
    {
        var name = t.String("name") ?? throw new ServeConfigException($"{t.Where}: every [[interface]] needs a name");
        IPAddress? address = null;
        IPNetwork? subnet = null;
        if (t.String("address") is { } a)
        {
            (address, subnet) = ParseAddress(a, t.Where + ".address");
        }

        var settings = new InterfaceSettings
        {
            Name = name,
            Dhcp = t.String("dhcp") is { } mode ? ParseDhcp(mode) : DhcpService.Off,
            Address = address,
            Subnet = subnet,
            Pools = t.Strings("pools") ?? [],
            Router = t.Address("router"),
            Dns = t.Strings("dns")?.Select(d => ParseIp(d, t.Where + ".dns")).ToArray() ?? [],
            Domain = t.String("domain"),
            LeaseTime = t.Seconds("lease-time") ?? TimeSpan.FromHours(1),
        };
        t.RejectUnknown("name", "dhcp", "address", "pools", "router", "dns", "domain", "lease-time");
        return settings;
    }

    /// <summary>A group name as groupadd takes it (the group must exist when the server starts).</summary>
    private static string ParseGroup(string text, string source) =>
        text.Length is > 0 and <= 32 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && text[0] != '-'
            ? text
            : throw new ServeConfigException($"{source}: group '{text}' is not a group name (letters, digits, '_', '-', '.')");

    public static DhcpService ParseDhcp(string text) => text.Trim().ToLowerInvariant() switch
    {
        "full" => DhcpService.Full,
        "proxy" => DhcpService.Proxy,
        "off" => DhcpService.Off,
        _ => throw new ServeConfigException($"'{text}' is not a DHCP mode: use full, proxy or off"),
    };

    /// <summary>The words log-level and --log-level take, least severe first.</summary>
    public static IReadOnlyList<string> LogLevelNames { get; } = ["trace", "debug", "info", "warning", "error"];

    public static LogLevel ParseLogLevel(string text, string where) => text.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new ServeConfigException($"{where}: '{text}' is not a log level: use {string.Join(", ", LogLevelNames)}"),
    };

    /// <summary>The word for a level, as <see cref="ParseLogLevel"/> reads it.</summary>
    public static string LogLevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        _ => "error",
    };

    /// <summary>"10.0.0.1/24": our address and the subnet it lies in.</summary>
    public static (IPAddress Address, IPNetwork Subnet) ParseAddress(string text, string where)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 1 or > 32)
        {
            throw new ServeConfigException($"{where}: '{text}' is not an address with a prefix like 10.0.0.1/24");
        }

        var address = ParseIp(text[..slash], where);
        return (address, new IPNetwork(InterfaceAddress.Mask(address, prefix), prefix));
    }

    public static IPAddress ParseIp(string text, string where) =>
        IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork
            ? ip
            : throw new ServeConfigException($"{where}: '{text}' is not an IPv4 address");

    /// <summary>Typed access to one TOML table; remembers the keys read so unknown ones can be reported.</summary>
    private sealed class TableReader(TomlTable table, string source, string path)
    {
        public string Where => path.Length == 0 ? source : $"{source} [{path}]";

        public string? String(string key) => Get(key) switch
        {
            null => null,
            string s => s,
            var other => throw Wrong(key, "a string", other),
        };

        public bool? Bool(string key) => Get(key) switch
        {
            null => null,
            bool b => b,
            var other => throw Wrong(key, "true or false", other),
        };

        public int? Count(string key, int min, int max) => Get(key) switch
        {
            null => null,
            long n when n >= min && n <= max => (int)n,
            var other => throw Wrong(key, $"a whole number from {min} to {max}", other),
        };

        public int? Port(string key) => Count(key, 0, IPEndPoint.MaxPort);

        public TimeSpan? Seconds(string key) => Get(key) switch
        {
            null => null,
            long n when n is > 0 and <= int.MaxValue => TimeSpan.FromSeconds(n),
            double d when d > 0 && d <= int.MaxValue => TimeSpan.FromSeconds(d),
            var other => throw Wrong(key, "a positive number of seconds", other),
        };

        public IPAddress? Address(string key) => String(key) is { } s ? ParseIp(s, $"{Where}.{key}") : null;

        public IReadOnlyList<string>? Strings(string key) => Get(key) switch
        {
            null => null,
            string s => [s],
            TomlArray a when a.All(x => x is string) => [.. a.Cast<string>()],
            var other => throw Wrong(key, "a list of strings", other),
        };

        public TableReader? Table(string key) => Get(key) switch
        {
            null => null,
            TomlTable t => new TableReader(t, source, key),
            var other => throw Wrong(key, $"a table [{key}]", other),
        };

        public IReadOnlyList<TableReader>? Tables(string key) => Get(key) switch
        {
            null => null,
            TomlTableArray a => [.. a.Select((t, i) => new TableReader(t, source, $"{key} #{i + 1}"))],
            var other => throw Wrong(key, $"tables [[{key}]]", other),
        };

        public void RejectUnknown(params string[] known)
        {
            foreach (var (key, _) in table)
            {
                if (!known.Contains(key, StringComparer.Ordinal))
                {
                    throw new ServeConfigException($"{Where}: unknown setting '{key}' (known here: {string.Join(", ", known)})");
                }
            }
        }

        private object? Get(string key) => table.TryGetValue(key, out var value) ? value : null;

        private ServeConfigException Wrong(string key, string expected, object? got) =>
            new($"{Where}: '{key}' must be {expected}, not {Convert.ToString(got, CultureInfo.InvariantCulture)}");
    }
}
