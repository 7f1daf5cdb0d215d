using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Wire.Connections;

namespace Sidus.Wire.Nbd;

/// <summary>
/// A read-only NBD server (fixed newstyle handshake, simple replies). One loop accepts connections; each runs as its
/// own task until the client disconnects or breaks the protocol. Nothing a client sends can stop the loop or
/// another connection: malformed input ends that one connection, logged.
/// </summary>
public sealed class NbdServer : IAsyncDisposable
{
    /// <summary>Backlog for connection bursts (a rack of nodes reaching their root at once).</summary>
    private const int ListenBacklog = 1024;

    private readonly NbdServerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<NbdConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private int _disposed;

    public NbdServer(NbdServerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The bound endpoint (the real port when the options asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? throw new InvalidOperationException("the NBD server is not started");

    /// <summary>Connections open now (negotiating or serving).</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Every open connection, for status pages.</summary>
    public IReadOnlyList<NbdConnectionStatus> Connections => [.. _connections.Keys.Select(c => c.Status)];

    /// <summary>Binds and listens; throws SocketException when the port is taken. RunAsync calls it when needed.</summary>
    public void Start()
    {
        if (_listener is not null)
        {
            return;
        }

        var listener = new Socket(_options.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(_options.Endpoint);
            listener.Listen(ListenBacklog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        NbdLog.Listening(_logger, LocalEndPoint);
    }

    /// <summary>Accepts connections until <paramref name="cancellation"/> fires, then closes every connection and waits for them.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        Start();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stopping.Token);
        var ct = linked.Token;
        var backoff = new AcceptBackoff("NBD", _logger);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener!.AcceptAsync(ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (SocketException e) when (AcceptBackoff.IsTransient(e))
                {
                    // A client gone before we took it, or a momentary lack of descriptors: the next accept may work.
                    await Task.Delay(backoff.Failed(e), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }

                backoff.Succeeded();
                if (_connections.Count >= _options.MaxConnections)
                {
                    NbdLog.TooManyConnections(_logger, client.RemoteEndPoint, _connections.Count);
                    client.Dispose();
                    continue;
                }

                ConnectionTicket? ticket = null;
                if (_options.Gate is { } gate && (ticket = gate.TryAdmit(client.RemoteEndPoint)) is null)
                {
                    client.Dispose();
                    continue;
                }

                var connection = new NbdConnection(client, _options, _logger);
                _connections[connection] = Task.Run(async () =>
                {
                    try
                    {
                        await connection.RunAsync(ct);
                    }
                    finally
                    {
                        _connections.TryRemove(connection, out _);
                        ticket?.Dispose();
                    }
                }, CancellationToken.None);
            }
        }
        finally
        {
            await Task.WhenAll(_connections.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener?.Dispose();
        await Task.WhenAll(_connections.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
