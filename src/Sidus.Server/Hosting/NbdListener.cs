using Sidus.Wire.Connections;
using Sidus.Wire.Nbd;

namespace Sidus.Server.Hosting;

/// <summary>NBD: each version's erofs export, which shared nodes mount and ram nodes copy.</summary>
public sealed class NbdListener(NbdSettings settings, LimitsSettings limits, ConnectionGate gate, INbdExportSource exports, ILogger logger) : IBootListener
{
    /// <summary>Longest wait for one step of the handshake (within the whole handshake's limit).</summary>
    private static readonly TimeSpan HandshakeStepTimeout = TimeSpan.FromSeconds(5);

    private readonly NbdServer _server = new(
        new NbdServerOptions
        {
            Endpoint = new IPEndPoint(settings.Listen, settings.Port),
            Exports = exports,
            Gate = gate,
            HandshakeTimeout = limits.NbdHandshakeTimeout,
            HandshakeStepTimeout = limits.NbdHandshakeTimeout < HandshakeStepTimeout ? limits.NbdHandshakeTimeout : HandshakeStepTimeout,
        },
        logger);

    public string Name => "NBD";

    public bool Essential => true;

    public IPEndPoint LocalEndPoint => _server.LocalEndPoint;

    public int ActiveConnections => _server.ActiveConnections;

    public IReadOnlyList<NbdConnectionStatus> Connections => _server.Connections;

    public void Bind()
    {
        try
        {
            _server.Start();
        }
        catch (SocketException e)
        {
            throw ListenerErrors.Bind(e, "NBD", ProtocolType.Tcp, settings.Listen, settings.Port, "nbd-server, qemu-nbd, nbdkit or another sidus serve?", "--nbd-port", "--no-nbd");
        }
    }

    public Task RunAsync(CancellationToken stopping) => _server.RunAsync(stopping);

    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"nbd on {_server.LocalEndPoint}: {_server.ActiveConnections} connections");

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
