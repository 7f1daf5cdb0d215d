using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidus.Boot.Dhcp;

/// <summary>The DHCP server (full or proxy) on one interface: UDP 67, plus 4011 for PXE boot-server requests.
/// Requests are handled one at a time; ACKs are held until the lease journal has been fsynced for the whole batch
/// of requests that were waiting, so one fsync covers many clients under load.</summary>
public sealed class DhcpServer : IAsyncDisposable, IDisposable
{
    private const int MaxBatch = 256;

    private readonly DhcpServerOptions _options;
    private readonly ILogger _logger;
    private readonly DhcpLeaseTable _leases;
    private readonly DhcpLeaseJournal? _journal;
    private readonly DhcpResponder _responder;
    private readonly Lock _gate = new();
    private Socket? _serverSocket;
    private Socket? _bootServerSocket;
    private long _received;
    private long _malformed;
    private long _ignored;
    private long _replies;
    private long _commits;

    public DhcpServer(DhcpServerOptions options, IDhcpNodeSource nodes, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nodes);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        if (options.LeaseFile is not null && options.Mode == DhcpMode.Full)
        {
            var loader = new DhcpLeaseTable(time ?? TimeProvider.System);
            var skipped = loader.Load(options.LeaseFile);
            if (skipped > 0)
                _logger.LogWarning("Lease journal {File}: skipped {Count} damaged record(s)", options.LeaseFile, skipped);
            _journal = new DhcpLeaseJournal(options.LeaseFile);
            _leases = new DhcpLeaseTable(time ?? TimeProvider.System, _journal)
            {
                OfferHold = options.OfferHold,
                DeclineQuarantine = options.DeclineQuarantine,
            };
            _leases.Load(options.LeaseFile);
            _logger.LogInformation("Lease journal {File}: {Count} lease(s) restored", options.LeaseFile, _leases.Count);
        }
        else
        {
            _leases = new DhcpLeaseTable(time ?? TimeProvider.System)
            {
                OfferHold = options.OfferHold,
                DeclineQuarantine = options.DeclineQuarantine,
            };
        }
        _responder = new DhcpResponder(options, nodes, _leases, _logger);
    }

    public DhcpServerOptions Options => _options;

    public DhcpServerStatistics Statistics => new(Interlocked.Read(ref _received), Interlocked.Read(ref _malformed),
        Interlocked.Read(ref _ignored), Interlocked.Read(ref _replies), Interlocked.Read(ref _commits));

    /// <summary>A copy of the current leases (taken under the server's lock).</summary>
    public IReadOnlyList<DhcpLease> Leases
    {
        get
        {
            lock (_gate)
                return _leases.Leases.ToList();
        }
    }

    /// <summary>Opens the sockets now. Sockets belong to the network namespace of the calling thread, so a caller that
    /// serves inside a namespace calls this from a thread that entered it; <see cref="RunAsync"/> binds otherwise.</summary>
    public void Bind()
    {
        if (_serverSocket is not null || _options.Mode == DhcpMode.Off)
            return;
        _serverSocket = DhcpSocket.Open(_options.ServerPort, _options.InterfaceName);
        _bootServerSocket = DhcpSocket.Open(_options.BootServerPort, _options.InterfaceName);
        _logger.LogInformation("DHCP {Mode} serving on {Interface} as {Address}, ports {Port} and {BootPort}",
            _options.Mode, _options.InterfaceName ?? "all interfaces", _options.ServerAddress, _options.ServerPort, _options.BootServerPort);
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_options.Mode == DhcpMode.Off)
        {
            _logger.LogInformation("DHCP is off");
            return;
        }
        Bind();
        await Task.WhenAll(
            ServeAsync(_serverSocket!, bootServerPort: false, cancellationToken),
            ServeAsync(_bootServerSocket!, bootServerPort: true, cancellationToken)).ConfigureAwait(false);
    }

    private async Task ServeAsync(Socket socket, bool bootServerPort, CancellationToken cancellationToken)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(DhcpConstants.MaxPacketSize + 1);
        var pending = new List<DhcpReply>();
        var anyEndPoint = new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult received;
            try
            {
                received = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, anyEndPoint, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException e)
            {
                // ICMP errors from earlier sends surface here on UDP sockets; they end nothing.
                _logger.LogDebug("DHCP receive error {Error}; continuing", e.SocketErrorCode);
                continue;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            Interlocked.Increment(ref _received);
            var source = (IPEndPoint)received.RemoteEndPoint;
            var reply = Process(buffer.AsSpan(0, received.ReceivedBytes), source, received.PacketInformation.Interface, bootServerPort);
            if (reply is not null)
                pending.Add(reply);
            if (socket.Available > 0 && pending.Count < MaxBatch)
                continue;
            await FlushAsync(socket, pending, cancellationToken).ConfigureAwait(false);
        }
    }

    private DhcpReply? Process(ReadOnlySpan<byte> datagram, IPEndPoint source, int interfaceIndex, bool bootServerPort)
    {
        if (!DhcpPacket.TryDecode(datagram, out var request, out var error))
        {
            Interlocked.Increment(ref _malformed);
            _logger.LogWarning("DHCP datagram of {Length} bytes from {Source} (interface {Index}) dropped: {Error} ({Kind})",
                datagram.Length, source, interfaceIndex, error, error.IsIncomplete() ? "incomplete" : "invalid");
            return null;
        }
        DhcpReply? reply;
        try
        {
            lock (_gate)
                reply = _responder.Handle(request, source, bootServerPort);
        }
        catch (IOException e)
        {
            // The lease journal could not be written: answering would promise what we cannot keep.
            _logger.LogError(e, "DHCP {Type} from {Mac} dropped: lease journal write failed", request.MessageType, request.ClientMac);
            reply = null;
        }
        if (reply is null)
            Interlocked.Increment(ref _ignored);
        return reply;
    }

    private async Task FlushAsync(Socket socket, List<DhcpReply> pending, CancellationToken cancellationToken)
    {
        var durable = true;
        try
        {
            lock (_gate)
            {
                if (_leases.Commit())
                    Interlocked.Increment(ref _commits);
            }
        }
        catch (IOException e)
        {
            _logger.LogError(e, "Lease journal fsync failed: withholding {Count} ACK(s)", pending.Count(r => r.NeedsCommit));
            durable = false;
        }
        var buffer = new byte[DhcpConstants.MaxPacketSize];
        foreach (var reply in pending)
        {
            if (reply.NeedsCommit && !durable)
                continue;
            var length = reply.Packet.Encode(buffer);
            try
            {
                await socket.SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, reply.Destination, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _replies);
            }
            catch (SocketException e)
            {
                _logger.LogWarning("DHCP {Type} to {Destination} not sent: {Error}", reply.Packet.MessageType, reply.Destination, e.SocketErrorCode);
            }
        }
        pending.Clear();
    }

    public void Dispose()
    {
        _serverSocket?.Dispose();
        _bootServerSocket?.Dispose();
        lock (_gate)
            _journal?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
