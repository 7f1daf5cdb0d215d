using Microsoft.Extensions.Hosting;
using Sidus.Nodes.Overrides;
using Sidus.Server.Dhcp;
using Sidus.Server.Http;
using Sidus.Server.Images;
using Sidus.Wire.Dhcp;
using Sidus.Wire.Ipv6;
using Sidus.Wire.Ipxe;

namespace Sidus.Server.Hosting;

/// <summary>
/// Everything <c>sidus serve</c> is made of, registered once with the host's services: what it reads (inventory,
/// image store), what it builds (version artifacts), what it answers with (boot scripts, overrides), its background
/// work (event recorder, inventory reloader, warmer, cache pruner) and its boot-network listeners. Each piece is built
/// by the container from the others; nothing is wired after the fact.
/// </summary>
internal static class ServerServices
{
    public static void Add(IServiceCollection services, ServeOptions options, InventoryView inventory, ServiceManagement management)
    {
        AddServiceManagement(services, options, management);
        AddInventory(services, options, inventory);
        AddImages(services, options);
        AddBackgroundWork(services, options);
        AddListeners(services, options);
    }

    /// <summary>What the process around the server gives it: the service manager's notifier, the log level, health.</summary>
    private static void AddServiceManagement(IServiceCollection services, ServeOptions options, ServiceManagement management)
    {
        services.AddSingleton(new RunningOptions(options));
        services.AddSingleton(management.Notifier);
        services.AddSingleton(management.LogLevel);
        services.AddSingleton<ServerHealth>();
        services.AddSingleton(sp => new ConnectionLimits(options.Limits, Linux.OpenFileLimit.RaiseToHardLimit(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IHostedService>(sp => new WatchdogPinger(
            sp.GetRequiredService<SystemdNotifier>(), sp.GetRequiredService<ServerHealth>(), sp.GetRequiredService<ILogger<WatchdogPinger>>()));
    }

    private static void AddInventory(IServiceCollection services, ServeOptions options, InventoryView inventory)
    {
        services.AddSingleton(options);
        services.AddSingleton(inventory);
        services.AddSingleton<ServerState>();
        services.AddSingleton<RecentClients>();
        services.AddSingleton(sp => new Metrics.ServerMetrics(
            sp.GetRequiredService<ServerState>(), sp.GetRequiredService<ConnectionLimits>(), sp.GetRequiredService<ErofsExports>()));
        services.AddSingleton(sp => new Metrics.MetricsCollector(sp.GetRequiredService<Metrics.ServerMetrics>()));
        services.AddSingleton(new OverrideRenderer(options.OverrideLocations));
        services.AddSingleton<BootEventFeed>();
        services.AddSingleton(sp => new BootEventRecorder(inventory, sp.GetRequiredService<ILogger<BootEventRecorder>>(), feed: sp.GetRequiredService<BootEventFeed>()));
        services.AddSingleton<WebConsole.ConsoleSessions>();
        services.AddSingleton(sp => Access.NodeAccess.Open(
            options.Home, inventory, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Access"),
            // Resolved at each ticket, not now: ServerState lists the listeners, and NBD's needs this (a cycle).
            mac => sp.GetRequiredService<ServerState>().LeasedAddress(mac), () => sp.GetRequiredService<RunningOptions>().Current.Overrides.AllowUnverified,
            (node, version) => Install.InstalledNodes.KeyOpens(inventory.Current, sp.GetRequiredService<ImageCatalog>(), node, version)));
    }

    private static void AddImages(IServiceCollection services, ServeOptions options)
    {
        services.AddSingleton(sp => new ImageStoreView(options.Home, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server")));
        services.AddSingleton(sp => new ImageCatalog(sp.GetRequiredService<ImageStoreView>()));
        services.AddSingleton(sp => new AgentInitramfs(sp.GetRequiredService<ImageStoreView>(), options.Boot.AgentPath, sp.GetRequiredService<ILogger<AgentInitramfs>>()));
        services.AddSingleton(sp => new ErofsExports(sp.GetRequiredService<ImageStoreView>(), options.Home, sp.GetRequiredService<ILogger<ErofsExports>>()));
        services.AddSingleton(sp => new VersionArtifacts(
            sp.GetRequiredService<AgentInitramfs>(), options.Nbd.Enabled ? sp.GetRequiredService<ErofsExports>() : null, sp.GetRequiredService<ILogger<VersionArtifacts>>()));
        services.AddSingleton(sp => new BootScripts(
            sp.GetRequiredService<InventoryView>(), sp.GetRequiredService<ImageCatalog>(), () => sp.GetRequiredService<RunningOptions>().Current.Boot,
            sp.GetRequiredService<VersionArtifacts>(), sp.GetRequiredService<Access.NodeAccess>(),
            options.Nbd.Enabled ? new SharedExportSettings(options.Nbd, () => sp.GetRequiredService<ServerState>().Nbd!.LocalEndPoint.Port) : null));
    }

    private static void AddBackgroundWork(IServiceCollection services, ServeOptions options)
    {
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<BootEventRecorder>());
        services.AddSingleton(sp => new InventoryReloader(
            sp.GetRequiredService<InventoryView>(), () => sp.GetRequiredService<RunningOptions>().Current.InventoryPollInterval,
            sp.GetRequiredService<ILogger<InventoryReloader>>(), sp.GetRequiredService<OverrideRenderer>().Locations));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<InventoryReloader>());
        services.AddSingleton(sp => new BootFilesWarmer(
            sp.GetRequiredService<InventoryView>(), sp.GetRequiredService<ImageCatalog>(), sp.GetRequiredService<VersionArtifacts>(), sp.GetRequiredService<ILogger<BootFilesWarmer>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<BootFilesWarmer>());
        services.AddSingleton<IHostedService>(sp => new CachePruner(
            sp.GetRequiredService<AgentInitramfs>(), options.Nbd.Enabled ? sp.GetRequiredService<ErofsExports>() : null, sp.GetRequiredService<ILogger<CachePruner>>()));
    }

    /// <summary>TFTP, NBD, and DHCP (with the IPv6 no-router answers where Sidus owns the network) per interface.</summary>
    private static void AddListeners(IServiceCollection services, ServeOptions options)
    {
        if (options.Tftp.Enabled)
        {
            AddListener(services, sp =>
            {
                var ipxe = new IpxeBinarySource(options.Tftp.IpxeDirectory);
                var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server");
                if (ipxe.Files.Count == 0)
                {
                    ServerLog.IpxeBinariesMissing(log, options.Tftp.IpxeDirectory);
                }
                else
                {
                    ServerLog.IpxeBinaries(log, options.Tftp.IpxeDirectory, string.Join(", ", ipxe.Files.Keys.Order(StringComparer.Ordinal)));
                }

                var files = new TftpBootEvents(ipxe, sp.GetRequiredService<BootEventRecorder>());
                return new TftpListener(options.Tftp, options.Limits, files, sp.GetRequiredService<ILogger<Wire.Tftp.TftpServer>>());
            });
        }

        if (options.Nbd.Enabled)
        {
            AddListener(services, sp => new NbdListener(
                options.Nbd,
                options.Limits,
                sp.GetRequiredService<ConnectionLimits>().Nbd,
                new Access.NodeNbdExports(
                    new NbdVersionExports(sp.GetRequiredService<VersionArtifacts>(), sp.GetRequiredService<ImageStoreView>()), sp.GetRequiredService<Access.NodeAccess>()),
                sp.GetRequiredService<ILogger<Wire.Nbd.NbdServer>>()));
        }

        foreach (var settings in options.Interfaces.Where(i => i.Dhcp != DhcpService.Off))
        {
            var dhcp = ServeSetup.DhcpOptions(options, settings);
            var address = settings.Address!;
            AddListener(services, sp =>
            {
                var logger = DhcpLogger(sp, settings.Name);
                var nodes = new InventoryDhcpNodeSource(
                    sp.GetRequiredService<InventoryView>(), sp.GetRequiredService<BootEventRecorder>(), address, options.Dhcp, settings.Name, logger);
                return new DhcpListener(new DhcpServer(dhcp, nodes, logger));
            });
            if (dhcp.Mode == DhcpMode.Full)
            {
                AddListener(services, sp => new NoRouterListener(new NoRouterAdvertiser(settings.Name, DhcpLogger(sp, settings.Name)), settings.Name));
            }
        }
    }

    private static ILogger DhcpLogger(IServiceProvider services, string interfaceName) =>
        services.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Wire.Dhcp." + interfaceName);

    /// <summary>Registers a listener as one of the boot listeners (the container owns and disposes it) and hosts it in a <see cref="ListenerHost"/>.</summary>
    private static void AddListener<T>(IServiceCollection services, Func<IServiceProvider, T> create)
        where T : class, IBootListener
    {
        var holder = new ListenerHolder<T>(create);
        services.AddSingleton<IBootListener>(sp => holder.Get(sp));
        services.AddSingleton<IHostedService>(sp => new ListenerHost(
            holder.Get(sp), sp.GetRequiredService<ServerHealth>(), sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Listeners")));
    }

    /// <summary>Builds a listener once for both its registrations (several DHCP listeners share a type, so the type cannot name one).</summary>
    private sealed class ListenerHolder<T>(Func<IServiceProvider, T> create)
        where T : class, IBootListener
    {
        private readonly Lock _gate = new();
        private T? _listener;

        public T Get(IServiceProvider services)
        {
            lock (_gate)
            {
                return _listener ??= create(services);
            }
        }
    }
}
