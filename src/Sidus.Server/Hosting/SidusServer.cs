using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Sidus.Linux;
using Sidus.Nodes.Storage;
using Sidus.Server.Http;

namespace Sidus.Server.Hosting;

/// <summary>
/// `sidus serve` as an object: one ASP.NET Core host whose services (<see cref="ServerServices"/>) are the inventory,
/// the image store and its version artifacts, the background work, and the boot listeners (TFTP, NBD, DHCP per
/// interface) hosted side by side with HTTP. Every socket is bound in <see cref="StartAsync"/>, so a port in use or a
/// missing permission is an error there, with advice. Run as a service (<see cref="ServiceManagement"/>), it tells the
/// service manager when it is ready, reloading and stopping, pings its watchdog while healthy, and reloads its
/// configuration on SIGHUP.
/// </summary>
public sealed class SidusServer : IAsyncDisposable
{
    /// <summary>Header block accepted at most; PXE clients send a few hundred bytes.</summary>
    public const int MaxRequestHeadersBytes = 16 * 1024;

    /// <summary>How long stopping waits for running downloads.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly InventoryStore _inventory;
    private readonly ServiceManagement _management;
    private readonly ConfigReloader? _reloader;
    private PosixSignalRegistration? _hangup;
    private int _disposed;

    private SidusServer(WebApplication app, InventoryStore inventory, ServiceManagement management)
    {
        _app = app;
        _inventory = inventory;
        _management = management;
        if (management.Reload is { } reload)
        {
            _reloader = new ConfigReloader(
                reload, Services.GetRequiredService<RunningOptions>(), management.LogLevel, Services.GetServices<IBootListener>(),
                Services.GetRequiredService<InventoryReloader>(), management.Notifier, StatusLine, Logger);
        }
    }

    public InventoryView Inventory => _app.Services.GetRequiredService<InventoryView>();

    public ServerState State => _app.Services.GetRequiredService<ServerState>();

    /// <summary>Where HTTP listens (the real port when the options asked for port 0).</summary>
    public IPEndPoint HttpEndpoint => State.HttpEndpoint!;

    /// <summary>Where TFTP listens, or null when it is off.</summary>
    public IPEndPoint? TftpEndpoint => State.Tftp?.LocalEndPoint;

    /// <summary>Where NBD listens, or null when it is off.</summary>
    public IPEndPoint? NbdEndpoint => State.Nbd?.LocalEndPoint;

    public IServiceProvider Services => _app.Services;

    /// <summary>Whether every essential listener still serves (what the watchdog pings vouch for).</summary>
    public ServerHealth Health => _app.Services.GetRequiredService<ServerHealth>();

    /// <summary>The configuration running now (the start's, with the live settings of the last reload).</summary>
    public ServeOptions RunningOptions => _app.Services.GetRequiredService<RunningOptions>().Current;

    private ILogger Logger => _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server");

    /// <summary>
    /// Reads the inventory, builds the host with every service, maps the HTTP endpoints, and starts: the boot
    /// listeners bind first, then HTTP; the first failure stops the start and says what to do.
    /// </summary>
    /// <param name="logging">Where logs go (tests collect them); the console (or journal) format of the options when null.</param>
    /// <param name="management">The service manager and reloads; none when null.</param>
    public static async Task<SidusServer> StartAsync(
        ServeOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken ct = default, ServiceManagement? management = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        management ??= ServiceManagement.None;
        var homeChange = SecureHome(options);
        // A reload asked for while the server starts (`systemctl reload` at once after `start`, a test that signals
        // as soon as HTTP answers) must not end it, which is SIGHUP's default action: it is kept, and done once ready.
        var hangupWhileStarting = new StrongBox<bool>();
        using var startingHangup = management.ReloadOnHangup
            ? PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                Volatile.Write(ref hangupWhileStarting.Value, true);
            })
            : null;
        var inventory = await OpenInventoryAsync(options, ct);
        WebApplication? app = null;
        try
        {
            var view = new InventoryView(inventory, await inventory.LoadAsync(ct));
            var builder = CreateHostBuilder(options, logging, management.LogLevel);
            ServerServices.Add(builder.Services, options, view, management);
            app = builder.Build();

            // The inventory refuses images that do not exist, POST /api/apply included: the store answers.
            inventory.Images = app.Services.GetRequiredService<ImageStoreView>().ReferenceProblem;
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server");
            if (homeChange is not null)
            {
                ServerLog.HomeSecured(log, homeChange);
            }

            ServerLog.InventoryReloaded(log, view.Current.Nodes.Length, view.Current.Groups.Length, view.Current.Version);
            MapEndpoints(app);
            await StartListeningAsync(app, options, ct);
            ServerLog.HttpListening(log, app.Services.GetRequiredService<ServerState>().HttpEndpoint!.ToString());
            var server = new SidusServer(app, inventory, management);
            server.AnnounceReady();
            if (Volatile.Read(ref hangupWhileStarting.Value) && server._reloader is not null)
            {
                server.Reload();
            }

            return server;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await inventory.DisposeAsync();
            throw;
        }
    }

    /// <summary>The host: Kestrel with limits for boot clients, logging as asked, a bounded stop.</summary>
    private static WebApplicationBuilder CreateHostBuilder(ServeOptions options, Action<ILoggingBuilder>? logging, LogLevelSwitch level)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        ServeLogging.Configure(builder.Logging, options, level, logging);
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = ShutdownTimeout;

            // Every loop survives its own errors; one that fails anyway stops the server, which then exits non-zero.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });

        // "Application started. Press Ctrl+C to shut down.": the server says when it listens, and a service has no Ctrl+C.
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        var httpAddresses = ServeSetup.HttpListenAddresses(options);
        var httpPort = ServeSetup.HttpListenPort(options, httpAddresses);
        GatedConnectionListenerFactory.Register(builder.Services);
        HttpListenerWatch.Register(builder.Services);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
            k.Limits.MaxRequestLineSize = 8 * 1024;
            k.Limits.MaxRequestBodySize = ApiEndpoints.MaxEventBody;
            // Idle and slow-header connections are closed ([limits]); the data rates stay Kestrel's (240 bytes/s after
            // a 5 s grace): the slowest iPXE download is far faster, and a reader slower than that only holds memory.
            k.Limits.KeepAliveTimeout = options.Limits.HttpIdleTimeout;
            k.Limits.RequestHeadersTimeout = options.Limits.HttpHeadersTimeout;
            foreach (var address in httpAddresses)
            {
                k.Listen(address, httpPort);
            }
        });
        return builder;
    }

    private static void MapEndpoints(WebApplication app)
    {
        // The collector listens from the start: what happens before the first scrape counts too.
        app.Services.GetRequiredService<Metrics.MetricsCollector>();
        app.Use(LogRefusalsAsync);
        app.Use(Metrics.MetricsEndpoint.CountAsync);
        app.Use(Http.Api.ApiProblem.FillEmptyErrorsAsync);
        BootEndpoints.Map(app);
        ImageEndpoints.Map(app);
        ServingEndpoints.Map(app);
        ApiEndpoints.Map(app);
        Http.Api.InventoryApi.Map(app);
        Http.Api.ImageApi.Map(app);
        Metrics.MetricsEndpoint.Map(app);
        Http.Api.OpenApiDocument.Map(app);
        OverrideEndpoints.Map(app);
        NodeRequestEndpoints.Map(app);
        NodeCaptureEndpoint.Map(app);
        InstallEndpoints.Map(app);
        NodeTargetEndpoints.Map(app);
        Access.NodeAuthorization.Map(app);
        WebConsole.ConsoleEndpoints.Map(app);
    }

    /// <summary>Starts the host (hosted services first: the boot listeners bind, then Kestrel) and records where HTTP listens.</summary>
    private static async Task StartListeningAsync(WebApplication app, ServeOptions options, CancellationToken ct)
    {
        try
        {
            await app.StartAsync(ct);
        }
        catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
        {
            var holder = Linux.PortHolders.Describe(ProtocolType.Tcp, options.Http.Port);
            throw new ServeConfigException(
                holder is null
                    ? $"HTTP port {options.Http.Port} on {options.Http.Listen} is already in use (another web server, or a sidus serve already running): stop it or choose another port with --http-port"
                    : $"HTTP port {options.Http.Port} on {options.Http.Listen} is already held by {holder}: stop it first, or choose another port with --http-port",
                e);
        }
        catch (Exception e) when (e is SocketException { SocketErrorCode: SocketError.AccessDenied } || e.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied })
        {
            throw new ServeConfigException(
                $"binding HTTP port {options.Http.Port} needs root (or CAP_NET_BIND_SERVICE): run sidus serve as root, or choose a port above 1023 with --http-port", e);
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        app.Services.GetRequiredService<ServerState>().HttpEndpoint =
            address is null ? new IPEndPoint(options.Http.Listen, options.Http.Port) : ToEndPoint(address, options.Http.Listen);
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

        RecordFailedServices();
    }

    /// <summary>
    /// A background service that failed stopped the host (the host's StopHost behaviour): that stop is a failure
    /// (<see cref="Health"/>, so `sidus serve` exits non-zero and a service manager restarts it), not a clean exit.
    /// </summary>
    private void RecordFailedServices()
    {
        foreach (var service in _app.Services.GetServices<IHostedService>().OfType<BackgroundService>())
        {
            if (service.ExecuteTask is { IsFaulted: true } task)
            {
                var name = service.GetType().Name;
                var reason = task.Exception.GetBaseException().Message;
                ServerLog.BackgroundServiceDied(Logger, name, reason);
                Health.ReportFailure(name, reason);
            }
        }
    }

    /// <summary>
    /// Reads the configuration again and applies what can change live (see <see cref="ConfigReloader"/>); what SIGHUP
    /// does when the server runs as a service.
    /// </summary>
    public Task<ReloadResult> ReloadAsync(CancellationToken ct = default) =>
        _reloader is null ? throw new InvalidOperationException("this server was started without a way to read its configuration again") : _reloader.ReloadAsync(ct);

    /// <summary>One line for the service manager's status: where the server listens and what it serves.</summary>
    public string StatusLine()
    {
        var state = State;
        var parts = new List<string> { $"HTTP {state.HttpEndpoint}" };
        if (state.Tftp is { } tftp)
        {
            parts.Add($"TFTP {tftp.LocalEndPoint}");
        }

        if (state.Nbd is { } nbd)
        {
            parts.Add($"NBD {nbd.LocalEndPoint}");
        }

        var running = RunningOptions;
        var dhcp = running.Interfaces.Where(i => i.Dhcp != DhcpService.Off).Select(i => $"DHCP {i.Dhcp.ToString().ToLowerInvariant()} on {i.Name}").ToArray();
        parts.Add(dhcp.Length == 0 ? "no DHCP" : string.Join(", ", dhcp));
        var inventory = Inventory.Current;
        return $"{string.Join(", ", parts)}; {inventory.Nodes.Length.ToString(CultureInfo.InvariantCulture)} nodes";
    }

    /// <summary>
    /// Everything is bound and HTTP listens: READY=1 (with the status line) to the service manager, STOPPING=1 when the
    /// host begins to stop, and SIGHUP from now on reloads.
    /// </summary>
    private void AnnounceReady()
    {
        var notifier = _management.Notifier;
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(() =>
        {
            notifier.Stopping("stopping");
            ServerLog.Stopping(Logger, ShutdownTimeout.TotalSeconds);
        });
        if (_reloader is not null && _management.ReloadOnHangup)
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnHangup);
            if (IgnoredSignals.Contains(IgnoredSignals.SigHup))
            {
                ServerLog.HangupIgnored(Logger);
            }
        }

        var status = StatusLine();
        if (notifier.Ready(status))
        {
            ServerLog.ServiceReady(Logger, notifier.Address!, status);
        }
    }

    private void OnHangup(PosixSignalContext context)
    {
        // Handled: the default action of SIGHUP would end the process.
        context.Cancel = true;
        Reload();
    }

    /// <summary>A reload on its own task, its refusal logged (the server runs on with what it had).</summary>
    private void Reload()
    {
        ServerLog.ReloadAsked(Logger);
        _ = Task.Run(async () =>
        {
            try
            {
                await ReloadAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ServerLog.ReloadRefused(Logger, e.Message);
            }
        });
    }

    /// <summary>Stops every listener and waits (bounded) for running transfers.</summary>
    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _hangup?.Dispose();
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

        // The host disposes what its container built (listeners, store, artifacts); the inventory was opened first.
        await _app.DisposeAsync();
        await _inventory.DisposeAsync();
    }

    /// <summary>The data directory made root's alone, or [group]'s too (<see cref="Linux.HomeAccess"/>), before anything is written in it.</summary>
    private static string? SecureHome(ServeOptions options)
    {
        try
        {
            return Linux.HomeAccess.Secure(options.Home, options.Group);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Linux.LinuxException)
        {
            throw new ServeConfigException($"cannot use the data directory {options.Home}: {e.Message}", e);
        }
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
