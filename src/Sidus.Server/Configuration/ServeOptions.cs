namespace Sidus.Server.Configuration;

/// <summary>Everything <c>sidus serve</c> is configured with: the file, then command-line overrides on top.</summary>
public sealed record ServeOptions
{
    /// <summary>Default HTTP port: iPXE fetches scripts from plain http://server/ URLs.</summary>
    public const int DefaultHttpPort = 80;

    /// <summary>The well-known TFTP port PXE ROMs use.</summary>
    public const int DefaultTftpPort = 69;

    /// <summary>The Sidus data directory (image store, inventory database by default).</summary>
    public required string Home { get; init; }

    /// <summary>The inventory: a SQLite path or a PostgreSQL connection string; null means &lt;home&gt;/inventory.db.</summary>
    public string? Database { get; init; }

    public HttpSettings Http { get; init; } = new();

    public ApiSettings Api { get; init; } = new();

    /// <summary>
    /// The group that may read the data directory (store, exports, caches, inventory) besides root; null: root only.
    /// </summary>
    public string? Group { get; init; }

    public TftpSettings Tftp { get; init; } = new();

    public BootSettings Boot { get; init; } = new();

    public OverridesSettings Overrides { get; init; } = new();
    public NbdSettings Nbd { get; init; } = new();

    /// <summary>Full DHCP's defences against its own clients, for every interface (sidus.toml [dhcp]).</summary>
    public DhcpSettings Dhcp { get; init; } = new();
    public LimitsSettings Limits { get; init; } = new();

    /// <summary>The interfaces (and with them the subnets) DHCP serves; empty when DHCP is off everywhere.</summary>
    public IReadOnlyList<InterfaceSettings> Interfaces { get; init; } = [];

    /// <summary>How often the inventory's change counter is read.</summary>
    public TimeSpan InventoryPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The least severe log lines written (sidus.toml log-level, --log-level); changeable by a reload.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>The sidus.toml these options were read from, or null (defaults and the command line only).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>How log lines look: the console's, or the journal's (priority prefix, no time, no colour).</summary>
    public ServeLogFormat LogFormat { get; init; } = ServeLogFormat.Console;

    public string InventoryLocation => Database ?? Path.Combine(Home, Sidus.Nodes.Storage.InventoryStore.DefaultFileName);

    /// <summary>
    /// The override trees and node state: as configured, else beside the inventory file (a SQLite path), else in the
    /// data directory (PostgreSQL).
    /// </summary>
    public Sidus.Nodes.Overrides.OverrideLocations OverrideLocations
    {
        get
        {
            var beside = Database is { } db && !db.Contains('=', StringComparison.Ordinal) ? Path.GetDirectoryName(Path.GetFullPath(db)) ?? Home : Home;
            var defaults = Sidus.Nodes.Overrides.OverrideLocations.Beside(beside);
            return new(Overrides.Directory ?? defaults.Root, Overrides.State ?? defaults.State);
        }
    }
}

/// <summary>Where per-node overrides come from and who may fetch them.</summary>
public sealed record OverridesSettings
{
    /// <summary>The trees (global, groups/NAME, nodes/NAME); null: &lt;inventory dir&gt;/overrides.</summary>
    public string? Directory { get; init; }

    /// <summary>Generated node state (machine-id, SSH host keys); null: &lt;inventory dir&gt;/node-state.</summary>
    public string? State { get; init; }

    /// <summary>
    /// Serve a node's layer (with its SSH private keys) to an address the server cannot tie to the node (no fixed IP,
    /// no lease of ours, not in the neighbour table). Off by default: a guessed MAC must not yield the keys.
    /// </summary>
    public bool AllowUnverified { get; init; }
}

/// <summary>Who may use the HTTP API.</summary>
public sealed record ApiSettings
{
    /// <summary>
    /// Let anyone read GET /api/nodes, /api/status and /api/exports (the inventory, boot states, exports). Off by
    /// default: they need an admin token, like every write.
    /// </summary>
    public bool PublicReads { get; init; }

    /// <summary>
    /// Let anyone scrape GET /metrics (counts and sizes only: no node names, MACs or addresses). Off by default: it
    /// needs an admin token unless <see cref="PublicReads"/>.
    /// </summary>
    public bool PublicMetrics { get; init; }
}

public sealed record HttpSettings
{
    public IPAddress Listen { get; init; } = IPAddress.Any;

    public int Port { get; init; } = ServeOptions.DefaultHttpPort;
}

public sealed record TftpSettings
{
    public bool Enabled { get; init; } = true;

    public IPAddress Listen { get; init; } = IPAddress.Any;

    public int Port { get; init; } = ServeOptions.DefaultTftpPort;

    /// <summary>Where the iPXE binaries are (Debian's <c>ipxe</c> package by default).</summary>
    public string IpxeDirectory { get; init; } = Sidus.Wire.Ipxe.IpxeBinarySource.DebianDirectory;

    /// <summary>An optional directory of further files served read-only (links are never followed).</summary>
    public string? Root { get; init; }
}

/// <summary>The NBD server that exports each version's erofs image to shared-mode nodes.</summary>
public sealed record NbdSettings
{
    public bool Enabled { get; init; } = true;

    public IPAddress Listen { get; init; } = IPAddress.Any;

    public int Port { get; init; } = Sidus.Wire.Nbd.NbdProtocol.DefaultPort;

    /// <summary>
    /// The address nodes are told to connect to (sidus.nbd=ADDRESS:PORT); null means the address a node reached
    /// the HTTP server on, which is right unless NBD is reached through another address (NAT, a second interface).
    /// </summary>
    public IPAddress? Address { get; init; }
}

/// <summary>
/// What one client, and all of them together, may hold ([limits] in sidus.toml): no client of the boot network can
/// take the descriptors, the transfers or the connections the others need.
/// </summary>
public sealed record LimitsSettings
{
    /// <summary>TCP connections (HTTP and NBD together) held at once; 0 derives it from the file-descriptor limit.</summary>
    public int MaxConnections { get; init; }

    /// <summary>HTTP connections one address may hold (iPXE and the node agent use one at a time).</summary>
    public int HttpConnectionsPerSource { get; init; } = 8;

    /// <summary>NBD connections one address may hold (a shared or ram node holds one or a few).</summary>
    public int NbdConnectionsPerSource { get; init; } = 8;

    /// <summary>How long an HTTP connection may sit idle between requests (or before the first) before it is closed.</summary>
    public TimeSpan HttpIdleTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Time a client has to send a request's headers once it began.</summary>
    public TimeSpan HttpHeadersTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Time an NBD client has for its whole handshake (one step at most 5 s); an export once chosen stays open
    /// however idle, since a shared node's root lives on it.
    /// </summary>
    public TimeSpan NbdHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TFTP transfers one address may run at once.</summary>
    public int TftpTransfersPerSource { get; init; } = 8;

    /// <summary>TFTP requests per second one address may send (bursts of twice as many pass).</summary>
    public int TftpRequestsPerSecond { get; init; } = 10;
}

/// <summary>How the boot scripts behave.</summary>
public sealed record BootSettings
{
    /// <summary>Tries per download (kernel, initramfs) before a script gives up.</summary>
    public int DownloadAttempts { get; init; } = 3;

    /// <summary>Pause between download tries.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Times a machine the server cannot boot yet (unknown, no image) asks again before it gives up.</summary>
    public int AskAgainAttempts { get; init; } = 10;

    /// <summary>Pause before such a machine asks again.</summary>
    public TimeSpan AskAgainDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a boot menu waits for a choice.</summary>
    public TimeSpan MenuTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The node agent (NativeAOT) put in the Sidus initramfs of ram-mode nodes; by default sidus-agent next to the
    /// sidus binary (where <c>./sidus</c> publishes it).
    /// </summary>
    public string AgentPath { get; init; } = Path.Combine(AppContext.BaseDirectory, AgentFileName);

    /// <summary>The agent's file name beside the sidus binary.</summary>
    public const string AgentFileName = "sidus-agent";
}

/// <summary>
/// How full DHCP defends its pool and the inventory against the machines it serves (anyone on the boot network can
/// send any DHCP packet with any MAC): offer holds, DECLINE quarantine limits, and how many machines a discover
/// network registers, how fast.
/// </summary>
public sealed record DhcpSettings
{
    /// <summary>How long an OFFER keeps its address for a node.</summary>
    public TimeSpan OfferHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an OFFER keeps its address for a machine that is no node (a DISCOVER never followed by a
    /// REQUEST gives it back this soon).</summary>
    public TimeSpan UnknownOfferHold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an address a client DECLINEd stays out of use.</summary>
    public TimeSpan DeclineQuarantine { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Declined addresses one client (MAC) may have in quarantine at once; further DECLINEs are ignored.</summary>
    public int DeclinesPerClient { get; init; } = 2;

    /// <summary>Percentage of a pool that may be in quarantine at once; further DECLINEs are ignored.</summary>
    public int DeclineShare { get; init; } = 10;

    /// <summary>Discovered machines kept per network and in all (sidus node discovered).</summary>
    public Sidus.Nodes.DiscoveryLimits Discovered { get; init; } = Sidus.Nodes.DiscoveryLimits.Default;

    /// <summary>Machines that are no node whose boots are recorded (and, on a discover network, registered) per
    /// minute on one interface; the rest boot all the same, unrecorded.</summary>
    public int UnknownRecordsPerMinute { get; init; } = 60;
}

/// <summary>How <c>sidus serve</c> writes its log lines.</summary>
public enum ServeLogFormat
{
    /// <summary>One line per event with the time, coloured on a terminal.</summary>
    Console = 0,

    /// <summary>One line per event with a syslog "&lt;N&gt;" priority prefix, no time and no colour (journald adds both).</summary>
    Journal = 1,
}

/// <summary>What DHCP does on one interface.</summary>
public enum DhcpService
{
    /// <summary>No DHCP on this interface (another server does it all, or machines start iPXE some other way).</summary>
    Off = 0,

    /// <summary>Addresses and boot information.</summary>
    Full = 1,

    /// <summary>proxyDHCP: boot information only, beside a DHCP server Sidus does not own.</summary>
    Proxy = 2,
}

/// <summary>One served interface and the subnet on it.</summary>
public sealed record InterfaceSettings
{
    public required string Name { get; init; }

    public DhcpService Dhcp { get; init; } = DhcpService.Off;

    /// <summary>Our address and prefix on the interface (10.0.0.1/24); null reads it from the interface.</summary>
    public IPNetwork? Subnet { get; init; }

    public IPAddress? Address { get; init; }

    /// <summary>Address ranges handed out in full mode, like 10.0.0.100-10.0.0.200.</summary>
    public IReadOnlyList<string> Pools { get; init; } = [];

    public IPAddress? Router { get; init; }

    public IReadOnlyList<IPAddress> Dns { get; init; } = [];

    public string? Domain { get; init; }

    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);
}
