using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Serve;

/// <summary>The options of `sidus serve` and how they override sidus.toml.</summary>
public sealed class ServeArguments
{
    public Option<string?> Config { get; } = new("--config", "-c")
    {
        Description = $"Configuration file (default: <home>/sidus.toml, else {ServeConfigFile.SystemPath}, else none)",
        HelpName = "FILE",
    };

    public Option<string?> Interface { get; } = new("--interface", "-i")
    {
        Description = "Interface to serve DHCP on; its address and subnet are read from it",
        HelpName = "NAME",
    };

    public Option<string?> Dhcp { get; } = new("--dhcp") { Description = "DHCP on that interface: full, proxy or off", HelpName = "MODE" };

    public Option<string[]> Pools { get; } = new("--pool")
    {
        Description = "Addresses to hand out in full mode, FIRST-LAST (repeatable)",
        HelpName = "RANGE",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Router { get; } = new("--router") { Description = "Default gateway given to clients", HelpName = "ADDRESS" };

    public Option<string[]> Dns { get; } = new("--dns") { Description = "DNS server given to clients (repeatable)", HelpName = "ADDRESS" };

    public Option<string?> Domain { get; } = new("--domain") { Description = "Domain name given to clients", HelpName = "NAME" };

    public Option<int?> LeaseTime { get; } = new("--lease-time") { Description = "Lease time in seconds", HelpName = "SECONDS" };

    public Option<string?> Listen { get; } = new("--listen") { Description = "Address HTTP, TFTP and NBD listen on (default: all; HTTP only on the served interfaces' addresses and 127.0.0.1)", HelpName = "ADDRESS" };

    public Option<int?> HttpPort { get; } = new("--http-port") { Description = $"HTTP port (default {ServeOptions.DefaultHttpPort})", HelpName = "PORT" };

    public Option<int?> TftpPort { get; } = new("--tftp-port") { Description = $"TFTP port (default {ServeOptions.DefaultTftpPort})", HelpName = "PORT" };

    public Option<bool> NoTftp { get; } = new("--no-tftp") { Description = "Do not serve TFTP (another server hands out the iPXE binaries)" };

    public Option<int?> NbdPort { get; } = new("--nbd-port")
    {
        Description = $"NBD port shared-mode nodes read their root from (default {Sidus.Wire.Nbd.NbdProtocol.DefaultPort})",
        HelpName = "PORT",
    };

    public Option<bool> NoNbd { get; } = new("--no-nbd") { Description = "Do not serve NBD (shared-mode nodes cannot boot)" };

    public Option<string?> IpxeDirectory { get; } = new("--ipxe-dir")
    {
        Description = "Where the iPXE binaries are (default /usr/lib/ipxe, Debian's ipxe package)",
        HelpName = "DIR",
    };

    public Option<string?> TftpRoot { get; } = new("--tftp-root") { Description = "Further files to serve over TFTP (read-only)", HelpName = "DIR" };

    public Option<string?> Agent { get; } = new("--agent")
    {
        Description = $"The node agent put in ram-mode initramfs (default: {BootSettings.AgentFileName} next to the sidus binary)",
        HelpName = "PATH",
    };

    public Option<string?> LogLevel { get; } = new("--log-level")
    {
        Description = $"Least severe log lines shown: {string.Join(", ", ServeConfigFile.LogLevelNames)} (default info)",
        HelpName = "LEVEL",
    };

    public Option<string?> LogFormat { get; } = new("--log-format")
    {
        Description = "console (time, colour) or journal (<N> priority prefix, no time); default: journal when systemd's JOURNAL_STREAM is stdout",
        HelpName = "FORMAT",
    };

    public IEnumerable<Option> All =>
    [
        Config, Interface, Dhcp, Pools, Router, Dns, Domain, LeaseTime, Listen, HttpPort, TftpPort, NoTftp, NbdPort, NoNbd, IpxeDirectory, TftpRoot, Agent,
        LogLevel, LogFormat,
    ];

    /// <summary>The configuration: defaults, then the file, then the command line.</summary>
    public ServeOptions Build(ParseResult r, Option<string?> db)
    {
        var options = SidusConfig.Read(r, r.GetValue(Config));
        if (r.GetValue(db) is { Length: > 0 } || Environment.GetEnvironmentVariable(Sidus.Nodes.Storage.InventoryStore.DatabaseVariable) is { Length: > 0 })
        {
            options = options with { Database = InventoryCli.Location(r, db) };
        }

        var listen = r.GetValue(Listen) is { } l ? ServeConfigFile.ParseIp(l, "--listen") : null;
        options = options with
        {
            Http = options.Http with
            {
                Listen = listen ?? options.Http.Listen,
                Port = Port(r.GetValue(HttpPort), "--http-port") ?? options.Http.Port,
            },
            Tftp = options.Tftp with
            {
                Enabled = !r.GetValue(NoTftp) && options.Tftp.Enabled,
                Listen = listen ?? options.Tftp.Listen,
                Port = Port(r.GetValue(TftpPort), "--tftp-port") ?? options.Tftp.Port,
                IpxeDirectory = r.GetValue(IpxeDirectory) ?? options.Tftp.IpxeDirectory,
                Root = r.GetValue(TftpRoot) ?? options.Tftp.Root,
            },
            Nbd = options.Nbd with
            {
                Enabled = !r.GetValue(NoNbd) && options.Nbd.Enabled,
                Listen = listen ?? options.Nbd.Listen,
                Port = Port(r.GetValue(NbdPort), "--nbd-port") ?? options.Nbd.Port,
            },
            Boot = r.GetValue(Agent) is { } agent ? options.Boot with { AgentPath = Path.GetFullPath(agent) } : options.Boot,
            LogLevel = r.GetValue(LogLevel) is { } level ? ServeConfigFile.ParseLogLevel(level, "--log-level") : options.LogLevel,
            LogFormat = r.GetValue(LogFormat) is { } format ? ParseLogFormat(format) : DefaultLogFormat,
        };
        return options with { Interfaces = Interfaces(r, options.Interfaces) };
    }

    private IReadOnlyList<InterfaceSettings> Interfaces(ParseResult r, IReadOnlyList<InterfaceSettings> configured)
    {
        var name = r.GetValue(Interface);
        var touches = r.GetValue(Dhcp) is not null || r.GetValue(Pools) is { Length: > 0 } || r.GetValue(Router) is not null
            || r.GetValue(Dns) is { Length: > 0 } || r.GetValue(Domain) is not null || r.GetValue(LeaseTime) is not null;
        if (name is null)
        {
            if (!touches)
            {
                return configured;
            }

            // `--dhcp off` alone: no DHCP anywhere (HTTP and TFTP still run), whatever the file says.
            if (r.GetValue(Dhcp) is { } only && ServeConfigFile.ParseDhcp(only) == DhcpService.Off && r.GetValue(Pools) is not { Length: > 0 })
            {
                return [.. configured.Select(i => i with { Dhcp = DhcpService.Off })];
            }

            if (configured.Count != 1)
            {
                throw new ServeConfigException("say which interface the DHCP options are for: --interface NAME");
            }

            name = configured[0].Name;
        }

        var list = configured.ToList();
        var index = list.FindIndex(i => i.Name == name);
        var current = index >= 0 ? list[index] : new InterfaceSettings { Name = name, Dhcp = DhcpService.Full };
        var updated = current with
        {
            Dhcp = r.GetValue(Dhcp) is { } mode ? ServeConfigFile.ParseDhcp(mode) : current.Dhcp,
            Pools = r.GetValue(Pools) is { Length: > 0 } pools ? pools : current.Pools,
            Router = r.GetValue(Router) is { } router ? ServeConfigFile.ParseIp(router, "--router") : current.Router,
            Dns = r.GetValue(Dns) is { Length: > 0 } dns ? [.. dns.Select(d => ServeConfigFile.ParseIp(d, "--dns"))] : current.Dns,
            Domain = r.GetValue(Domain) ?? current.Domain,
            LeaseTime = r.GetValue(LeaseTime) is { } seconds
                ? seconds > 0 ? TimeSpan.FromSeconds(seconds) : throw new ServeConfigException("--lease-time must be a positive number of seconds")
                : current.LeaseTime,
        };
        if (index >= 0)
        {
            list[index] = updated;
        }
        else
        {
            list.Add(updated);
        }

        return list;
    }

    /// <summary>Whether a fatal error before the options are read should be written as the journal expects.</summary>
    public bool JournalLines(ParseResult r) => r.GetValue(LogFormat) is { } format
        ? format.Trim().Equals("journal", StringComparison.OrdinalIgnoreCase)
        : DefaultLogFormat == ServeLogFormat.Journal;

    /// <summary>The journal's format when stdout is the stream systemd connected to the journal.</summary>
    private static ServeLogFormat DefaultLogFormat => JournalStream.IsConnected(1) ? ServeLogFormat.Journal : ServeLogFormat.Console;

    private static ServeLogFormat ParseLogFormat(string text) => text.Trim().ToLowerInvariant() switch
    {
        "console" => ServeLogFormat.Console,
        "journal" => ServeLogFormat.Journal,
        _ => throw new ServeConfigException($"--log-format: '{text}' is not a log format: use console or journal"),
    };

    private static int? Port(int? port, string option) =>
        port is null or (>= 0 and <= IPEndPoint.MaxPort) ? port : throw new ServeConfigException($"{option} {port} is not a port (0-65535)");
}
