using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using Sidus.Wire.Connections;

namespace Sidus.Server.Hosting;

/// <summary>
/// Kestrel's socket transport with the HTTP <see cref="ConnectionGate"/> in its accept loop: a connection past a
/// limit is closed before the next one is accepted. (A check later in Kestrel's pipeline runs on the thread pool,
/// and under a flood the accept loop outruns it: the refused connections, still open, took every descriptor.)
/// </summary>
internal sealed class GatedConnectionListenerFactory(IConnectionListenerFactory sockets, Func<ConnectionGate> gate) : IConnectionListenerFactory
{
    /// <summary>Registers the gated transport in place of the plain one Kestrel would use.</summary>
    public static void Register(IServiceCollection services) =>
        services.AddSingleton<IConnectionListenerFactory>(sp => new GatedConnectionListenerFactory(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            () => sp.GetRequiredService<ConnectionLimits>().Http));

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new GatedConnectionListener(await sockets.BindAsync(endpoint, cancellationToken), gate());

    private sealed class GatedConnectionListener(IConnectionListener inner, ConnectionGate gate) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await inner.AcceptAsync(cancellationToken);
                if (connection is null)
                {
                    return null;
                }

                var ticket = gate.TryAdmit(connection.RemoteEndPoint);
                if (ticket is not null)
                {
                    connection.ConnectionClosed.Register(static t => ((ConnectionTicket)t!).Dispose(), ticket);
                    return connection;
                }

                connection.Abort(new ConnectionAbortedException("connection limit reached"));
                await connection.DisposeAsync();
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
