using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>
/// Watches HTTP's listening sockets. Kestrel's accept loop takes any accept error for a client gone from the backlog
/// and tries again: a listening socket that stopped listening (shut down under the server) would leave HTTP dead
/// behind a healthy-looking process. Once a socket no longer listens, the server is unhealthy and stops (exit 1),
/// like a boot listener that died.
/// </summary>
internal sealed class HttpListenerWatch(HttpListenerWatch.Sockets sockets, ServerHealth health, IHostApplicationLifetime lifetime, ILogger<HttpListenerWatch> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Linux SOL_SOCKET / SO_ACCEPTCONN: 1 while a socket listens.</summary>
    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;

    /// <summary>Makes Kestrel's listening sockets itself (as Kestrel would) and keeps them to be watched.</summary>
    public static void Register(IServiceCollection services)
    {
        var bound = new Sockets();
        services.AddSingleton(bound);
        services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = endpoint =>
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            bound.Add(socket);
            return socket;
        });
        services.AddSingleton<IHostedService>(sp => new HttpListenerWatch(
            bound, sp.GetRequiredService<ServerHealth>(), sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<HttpListenerWatch>>()));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (sockets.FirstNotListening() is { } endpoint)
                {
                    health.ReportFailure("HTTP", $"its socket on {endpoint} no longer listens");
                    ServerLog.ListenerDied(logger, health.Failure!);
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>HTTP's listening sockets, as Kestrel bound them.</summary>
    internal sealed class Sockets
    {
        private readonly Lock _gate = new();
        private readonly List<Socket> _sockets = [];

        public void Add(Socket socket)
        {
            lock (_gate)
            {
                _sockets.Add(socket);
            }
        }

        /// <summary>The address of a socket that stopped listening, or null while all listen (a closed one was unbound by Kestrel).</summary>
        public EndPoint? FirstNotListening()
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            lock (_gate)
            {
                foreach (var socket in _sockets)
                {
                    try
                    {
                        if (socket.GetRawSocketOption(SolSocket, SoAcceptConn, value) == sizeof(int) && BitConverter.ToInt32(value) == 0)
                        {
                            return socket.LocalEndPoint;
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        // Unbound by Kestrel as it stops.
                    }
                }
            }

            return null;
        }
    }
}
