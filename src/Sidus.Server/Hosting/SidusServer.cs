using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Ipxe;
using Sidus.Wire.Nbd;
using Sidus.Wire.Tftp;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Http;
using Sidus.Server.Images;
using Sidus.Server.Inventory;

namespace Sidus.Server.Hosting;

/// <summary>
/// `sidus serve` as an object: the HTTP endpoints (Kestrel), TFTP, the inventory reloader, the boot-event writer,
/// and any further boot service (DHCP) as hosted services of one ASP.NET Core host. Every socket is bound in
/// <see cref="StartAsync"/>, so a port in use or a missing permission is an error there, with advice.
/// </summary>
public sealed class SidusServer : IAsyncDisposable
{
    /// <summary>Header block accepted at most; PXE clients send a few hundred bytes.</summary>
    public const int MaxRequestHeadersBytes = 16 * 1024;

    /// <summary>Time a client has to send its headers (slow-header attacks hold connections otherwise).</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long stopping waits for running downloads.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly ImageStoreView _store;
    private readonly VersionArtifacts _artifacts;
    private readonly InventoryStore _inventory;
    private readonly TftpServer? _tftp;
    private readonly NbdServer? _nbd;
    private readonly ILoggerFactory _serviceLogging;
    private int _disposed;

    private SidusServer(
        WebApplication app, ImageStoreView store, VersionArtifacts artifacts, InventoryStore inventory, TftpServer? tftp, NbdServer? nbd, InventoryView view, ServerState state, ILoggerFactory serviceLogging)
    {
        _nbd = nbd;
        _serviceLogging = serviceLogging;
        _app = app;
        _store = store;
        _artifacts = artifacts;
        _inventory = inventory;
        _tftp = tftp;
        Inventory = view;
        State = state;
    }

    public InventoryView Inventory { get; }

    public ServerState State { get; }

    /// <summary>Where HTTP listens (the real port when the options asked for port 0).</summary>
    public IPEndPoint HttpEndpoint => State.HttpEndpoint!;

    /// <summary>Where TFTP listens, or null when it is off.</summary>
    public IPEndPoint? TftpEndpoint => _tftp?.LocalEndPoint;

    /// <summary>Where NBD listens, or null when it is off.</summary>
    public IPEndPoint? NbdEndpoint => _nbd?.LocalEndPoint;

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Opens the inventory and the store, binds every listener and starts serving. <paramref name="extraServices"/>
    /// are started with the host (the DHCP servers, built by the caller from the same options and inventory).
    /// </summary>
    public static async Task<SidusServer> StartAsync(
        ServeOptions options,
        Action<ILoggingBuilder>? logging = null,
        Func<InventoryView, IServiceProvider, ILoggerFactory, IEnumerable<IHostedService>>? extraServices = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
        else
        {
            logging(builder.Logging);
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
            k.Limits.MaxRequestLineSize = 8 * 1024;
            k.Limits.MaxRequestBodySize = ApiEndpoints.MaxEventBody;
            k.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            k.Listen(options.Http.Listen, options.Http.Port);
        });

        // Loggers are needed before the host exists (stores, TFTP, DHCP): a factory with the same configuration
        // serves them for the server's lifetime.
        var earlyFactory = LoggerFactory.Create(b =>
        {
            if (logging is null)
            {
                b.AddSimpleConsole(o => o.SingleLine = true);
            }
            else
            {
                logging(b);
            }
        });
        var startupLog = earlyFactory.CreateLogger("Sidus.Server");

        var inventory = await OpenInventoryAsync(options, ct);
        ImageStoreView? store = null;
        TftpServer? tftp = null;
        TftpBootEvents? tftpEvents = null;
        NbdServer? nbd = null;
        VersionArtifacts? artifacts = null;
        try
        {
            var snapshot = await inventory.LoadAsync(ct);
            var view = new InventoryView(inventory, snapshot);
            ServerLog.InventoryReloaded(startupLog, snapshot.Nodes.Length, snapshot.Groups.Length, snapshot.Version);
            store = new ImageStoreView(options.Home, startupLog);
            var state = new ServerState();
            var services = builder.Services;
            services.AddSingleton(view);
            services.AddSingleton(state);
            services.AddSingleton(new ImageCatalog(store));
            services.AddSingleton(new RecentClients());
            services.AddSingleton(options);
            services.AddSingleton(new Sidus.Nodes.Overrides.OverrideRenderer(options.OverrideLocations));
            var agentBoot = new AgentInitramfs(store, options.Boot.AgentPath, earlyFactory.CreateLogger<AgentInitramfs>());
            services.AddSingleton(agentBoot);
            var exports = new ErofsExports(store, options.Home, earlyFactory.CreateLogger<ErofsExports>());
            services.AddSingleton(exports);
            artifacts = new VersionArtifacts(agentBoot, options.Nbd.Enabled ? exports : null, earlyFactory.CreateLogger<VersionArtifacts>());
            services.AddSingleton(artifacts);
            services.AddSingleton(sp => new BootScripts(
                view, sp.GetRequiredService<ImageCatalog>(), options.Boot, sp.GetRequiredService<VersionArtifacts>(),
                options.Nbd.Enabled ? new SharedExportSettings(options.Nbd, () => state.Nbd?.LocalEndPoint.Port ?? options.Nbd.Port) : null));
            services.AddSingleton(sp => new BootEventRecorder(view, sp.GetRequiredService<ILogger<BootEventRecorder>>()));
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<BootEventRecorder>());
            services.AddSingleton<IHostedService>(sp => new InventoryReloader(view, options.InventoryPollInterval, sp.GetRequiredService<ILogger<InventoryReloader>>()));
            services.AddSingleton(sp => new BootFilesWarmer(view, sp.GetRequiredService<ImageCatalog>(), sp.GetRequiredService<VersionArtifacts>(),
                sp.GetRequiredService<ILogger<BootFilesWarmer>>()));
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<BootFilesWarmer>());
            services.AddSingleton<IHostedService>(sp => new CachePruner(sp.GetRequiredService<AgentInitramfs>(),
                options.Nbd.Enabled ? exports : null, sp.GetRequiredService<ILogger<CachePruner>>()));

            if (options.Tftp.Enabled)
            {
                (tftp, tftpEvents) = StartTftp(options.Tftp, startupLog, earlyFactory);
                state.Tftp = tftp;
                var started = tftp;
                services.AddSingleton<IHostedService>(sp => new TftpHostedService(started, sp.GetRequiredService<ILogger<TftpHostedService>>()));
            }

            if (options.Nbd.Enabled)
            {
                nbd = StartNbd(options.Nbd, new NbdVersionExports(artifacts, store), earlyFactory);
                state.Nbd = nbd;
                state.Exports = exports;
                var started = nbd;
                services.AddSingleton<IHostedService>(sp => new NbdHostedService(started, sp.GetRequiredService<ILogger<NbdHostedService>>()));
            }

            if (extraServices is not null)
            {
                services.AddSingleton<IHostedService>(sp => new HostedGroup([.. extraServices(view, sp, earlyFactory)]));
            }

            var app = builder.Build();
            if (tftpEvents is not null)
            {
                tftpEvents.Recorder = app.Services.GetRequiredService<BootEventRecorder>();
            }

            app.Use(LogRefusalsAsync);
            BootEndpoints.Map(app);
            ImageEndpoints.Map(app);
            ServingEndpoints.Map(app);
            ApiEndpoints.Map(app);
            OverrideEndpoints.Map(app);
            var server = new SidusServer(app, store, artifacts, inventory, tftp, nbd, view, state, earlyFactory);
            try
            {
                await app.StartAsync(ct);
            }
            catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
            {
                await app.DisposeAsync();
                throw new ServeConfigException(
                    $"HTTP port {options.Http.Port} on {options.Http.Listen} is already in use (another web server, or a sidus serve already running): stop it or choose another port with --http-port", e);
            }
            catch (ServeConfigException)
            {
                await app.DisposeAsync();
                throw;
            }
            catch (Exception e) when (e is SocketException { SocketErrorCode: SocketError.AccessDenied } || e.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied })
            {
                await app.DisposeAsync();
                throw new ServeConfigException(
                    $"binding HTTP port {options.Http.Port} needs root (or CAP_NET_BIND_SERVICE): run sidus serve as root, or choose a port above 1023 with --http-port", e);
            }

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            state.HttpEndpoint = address is null ? new IPEndPoint(options.Http.Listen, options.Http.Port) : ToEndPoint(address, options.Http.Listen);
            ServerLog.HttpListening(startupLog, state.HttpEndpoint.ToString());
            return server;
        }
        catch
        {
            if (tftp is not null)
            {
                await tftp.DisposeAsync();
            }

            if (nbd is not null)
            {
                await nbd.DisposeAsync();
            }

            artifacts?.Dispose();
            store?.Dispose();
            await inventory.DisposeAsync();
            earlyFactory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Completes when the host is asked to stop (SIGTERM or SIGINT, which the host's console lifetime takes) or when
    /// <paramref name="ct"/> fires.
    /// </summary>
    public async Task WaitForShutdownAsync(CancellationToken ct)
    {
        var stopping = _app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop, one way or the other.
        }
    }

    /// <summary>Stops every listener and waits (bounded) for running transfers.</summary>
    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout);
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping took longer than allowed: what is left is torn down below.
        }
        catch (InvalidOperationException)
        {
            // The host never started.
        }

        await _app.DisposeAsync();
        if (_tftp is not null)
        {
            await _tftp.DisposeAsync();
        }

        if (_nbd is not null)
        {
            await _nbd.DisposeAsync();
        }

        _artifacts.Dispose();
        _store.Dispose();
        await _inventory.DisposeAsync();
        _serviceLogging.Dispose();
    }

    private static async Task<InventoryStore> OpenInventoryAsync(ServeOptions options, CancellationToken ct)
    {
        try
        {
            return await InventoryStore.OpenAsync(options.InventoryLocation, ct: ct);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            throw new ServeConfigException($"cannot open the inventory at {options.InventoryLocation}: {e.Message}", e);
        }
    }

    private static (TftpServer Server, TftpBootEvents Events) StartTftp(TftpSettings settings, ILogger log, ILoggerFactory factory)
    {
        var ipxe = new IpxeBinarySource(settings.IpxeDirectory);
        var events = new TftpBootEvents(ipxe);
        if (ipxe.Files.Count == 0)
        {
            ServerLog.IpxeBinariesMissing(log, settings.IpxeDirectory);
        }
        else
        {
            ServerLog.IpxeBinaries(log, settings.IpxeDirectory, string.Join(", ", ipxe.Files.Keys.Order(StringComparer.Ordinal)));
        }

        if (settings.Root is not null && !Directory.Exists(settings.Root))
        {
            throw new ServeConfigException($"TFTP root {settings.Root} does not exist: create it or remove [tftp] root");
        }

        var server = new TftpServer(
            new TftpServerOptions
            {
                Endpoint = new IPEndPoint(settings.Listen, settings.Port),
                FileSource = events,
                RootDirectory = settings.Root,
            },
            factory.CreateLogger<TftpServer>());
        try
        {
            server.Start();
            return (server, events);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ServeConfigException(
                $"TFTP port {settings.Port} on {settings.Listen} is already in use (tftpd-hpa, dnsmasq or another sidus serve?): stop that service, or choose --tftp-port, or turn TFTP off with --no-tftp", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ServeConfigException(
                $"binding TFTP port {settings.Port} needs root (or CAP_NET_BIND_SERVICE): run sidus serve as root, or choose a port above 1023 with --tftp-port", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new ServeConfigException($"TFTP cannot listen on {settings.Listen}: no interface has that address", e);
        }
    }

    private static NbdServer StartNbd(NbdSettings settings, INbdExportSource exports, ILoggerFactory factory)
    {
        var server = new NbdServer(
            new NbdServerOptions { Endpoint = new IPEndPoint(settings.Listen, settings.Port), Exports = exports },
            factory.CreateLogger<NbdServer>());
        try
        {
            server.Start();
            return server;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ServeConfigException(
                $"NBD port {settings.Port} on {settings.Listen} is already in use (nbd-server, qemu-nbd, nbdkit or another sidus serve?): stop it, choose --nbd-port, or turn NBD off with --no-nbd", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ServeConfigException($"binding NBD port {settings.Port} needs root (or CAP_NET_BIND_SERVICE): choose a port above 1023 with --nbd-port", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new ServeConfigException($"NBD cannot listen on {settings.Listen}: no interface has that address", e);
        }
    }

    private static IPEndPoint ToEndPoint(string address, IPAddress fallback)
    {
        var uri = new Uri(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        return new IPEndPoint(IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : fallback, uri.Port);
    }

    private static async Task LogRefusalsAsync(HttpContext ctx, RequestDelegate next)
    {
        await next(ctx);
        if (ctx.Response.StatusCode >= StatusCodes.Status400BadRequest)
        {
            var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Http");
            var reason = ctx.Items.TryGetValue(HttpHelpers.RefusalKey, out var r) && r is string s ? s : "no such endpoint";
            ServerLog.RequestRefused(logger, ctx.Request.Method, ctx.Request.Path.ToString(), HttpHelpers.Client(ctx), $"{ctx.Response.StatusCode} {reason}");
        }
    }
}
