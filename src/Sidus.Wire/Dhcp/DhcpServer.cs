using Microsoft.Extensions.Logging.Abstractions;

namespace Sidus.Wire.Dhcp;

/// <summary>The DHCP server (full or proxy) on one interface: UDP 67, plus 4011 for PXE boot-server requests.
/// Requests are decided one at a time under one lock. OFFERs and NAKs leave at once; ACKs wait for the lease journal
/// to be fsynced, which a separate committer does for every ACK decided meanwhile (group commit), so the receive
/// loop never waits on the disk and one fsync covers many clients under load.</summary>
public sealed class DhcpServer : IAsyncDisposable, IDisposable
{
    private readonly List<(Socket Socket, DhcpReply Reply)> _awaitingCommit = [];
    // Not disposed: a receive loop finishing late may still signal it; it holds no unmanaged resource unless a
    // wait handle is asked for, which never happens.
    private readonly SemaphoreSlim _commitSignal = new(0);

    private readonly ILogger _logger;
    private readonly IDhcpNodeSource _nodes;
    private readonly DhcpLeaseTable _leases;
    private readonly DhcpLeaseJournal? _journal;
    private DhcpServerOptions _options;
    private DhcpResponder _responder;
    private readonly Lock _gate = new();
    private Socket? _serverSocket;
    private Socket? _bootServerSocket;
    private long _received;
    private long _malformed;
    private long _ignored;
    private long _replies;
    private long _commits;
    private volatile bool _stopping;

    public DhcpServer(DhcpServerOptions options, IDhcpNodeSource nodes, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nodes);
        _options = options;
        _nodes = nodes;
        _logger = logger ?? NullLogger.Instance;
        if (options.LeaseFile is not null && options.Mode == DhcpMode.Full)
        {
            var loader = new DhcpLeaseTable(time ?? TimeProvider.System);
            var skipped = loader.Load(options.LeaseFile);
            if (skipped > 0)
                _logger.LogWarning("Lease journal {File}: skipped {Count} damaged record(s)", options.LeaseFile, skipped);
            _journal = new DhcpLeaseJournal(options.LeaseFile);
            _leases = NewTable(options, nodes, time, _journal);
            _leases.Load(options.LeaseFile);
            _logger.LogInformation("Lease journal {File}: {Count} lease(s) restored", options.LeaseFile, _leases.Count);
        }
        else
        {
            _leases = NewTable(options, nodes, time, journal: null);
        }
        _responder = new DhcpResponder(options, nodes, _leases, _logger, time);
    }

    private static DhcpLeaseTable NewTable(DhcpServerOptions options, IDhcpNodeSource nodes, TimeProvider? time, DhcpLeaseJournal? journal) =>
        new(time ?? TimeProvider.System, journal)
        {
            OfferHold = options.OfferHold,
            UnknownOfferHold = options.UnknownOfferHold,
            DeclineQuarantine = options.DeclineQuarantine,
            DeclinesPerClient = options.DeclinesPerClient,
            DeclineSharePercent = options.DeclineSharePercent,
            IsNode = nodes.IsNode,
        };

    public DhcpServerOptions Options => Volatile.Read(ref _options);

    /// <summary>Puts new network settings (pools, router, DNS, domain, lease time, boot files...) in place while the
    /// server runs, keeping its sockets and every lease: a request is decided wholly under the old settings or wholly
    /// under the new. What the sockets and the journal are bound to (interface, mode, address, ports, lease file)
    /// cannot change this way.</summary>
    public void Reconfigure(DhcpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var current = Options;
        if (options.InterfaceName != current.InterfaceName || options.Mode != current.Mode || options.ServerAddress != current.ServerAddress
            || options.ServerPort != current.ServerPort || options.BootServerPort != current.BootServerPort || options.ClientPort != current.ClientPort
            || options.LeaseFile != current.LeaseFile)
            throw new ArgumentException("the interface, mode, server address, ports and lease file of a running DHCP server cannot change", nameof(options));
        lock (_gate)
        {
            _responder = new DhcpResponder(options, _nodes, _leases, _logger);
            Volatile.Write(ref _options, options);
        }
    }

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
    /// serves inside a namespace calls this from a thread that entered it; <see cref="RunAsync"/> binds otherwise.
    /// Throws <see cref="DhcpBindException"/> naming the port that could not be bound (held by another server on
    /// this interface, or no permission). A full server holds both ports alone. A proxy shares port 67 with the
    /// site's DHCP server when that one runs on the same interface and allows it (dnsmasq does): answering PXE
    /// clients beside it is a proxy's job; port 4011 it holds alone, so a second proxy there is refused.</summary>
    public void Bind()
    {
        if (_serverSocket is not null || _options.Mode == DhcpMode.Off)
            return;
        var server = Open(_options.ServerPort, shared: _options.Mode == DhcpMode.Proxy);
        try
        {
            _bootServerSocket = Open(_options.BootServerPort, shared: false);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        _serverSocket = server;
        _logger.LogInformation("DHCP {Mode} serving on {Interface} as {Address}, ports {Port} and {BootPort}",
            _options.Mode, _options.InterfaceName ?? "all interfaces", _options.ServerAddress, _options.ServerPort, _options.BootServerPort);
    }

    private Socket Open(int port, bool shared)
    {
        try
        {
            return DhcpSocket.Open(port, _options.InterfaceName, shared);
        }
        catch (SocketException e)
        {
            throw new DhcpBindException(port, e);
        }
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled. Each socket gets a dedicated thread
    /// with blocking receives, and so does the committer: under CPU contention a request then never waits for a pool
    /// thread, which is what DHCP latency (and a client's patience) depends on.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_options.Mode == DhcpMode.Off)
        {
            _logger.LogInformation("DHCP is off");
            return;
        }
        Bind();
        var threads = new[]
        {
            StartThread("dhcp 67", () => Serve(_serverSocket!, bootServerPort: false)),
            StartThread("dhcp 4011", () => Serve(_bootServerSocket!, bootServerPort: true)),
            StartThread("dhcp commit", CommitLoop),
        };
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => stopped.TrySetResult()))
            await stopped.Task.ConfigureAwait(false);
        _stopping = true;
        // Closing the sockets ends the blocking receives; the signal wakes the committer for its last write.
        _serverSocket!.Dispose();
        _bootServerSocket!.Dispose();
        _commitSignal.Release();
        await Task.Run(() =>
        {
            foreach (var thread in threads)
                thread.Join();
        }, CancellationToken.None).ConfigureAwait(false);
    }

    private static Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    private void Serve(Socket socket, bool bootServerPort)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(DhcpConstants.MaxPacketSize + 1);
        var sendBuffer = new byte[DhcpConstants.MaxPacketSize];
        while (!_stopping)
        {
            EndPoint remote = new IPEndPoint(IPAddress.Any, 0);
            var flags = SocketFlags.None;
            int length;
            IPPacketInformation info;
            try
            {
                length = socket.ReceiveMessageFrom(buffer, ref flags, ref remote, out info);
            }
            catch (SocketException e) when (!_stopping)
            {
                // ICMP errors from earlier sends surface here on UDP sockets; they end nothing.
                _logger.LogDebug("DHCP receive error {Error}; continuing", e.SocketErrorCode);
                continue;
            }
            catch (Exception e) when (_stopping && e is SocketException or ObjectDisposedException)
            {
                break;
            }
            Interlocked.Increment(ref _received);
            var reply = Process(buffer.AsSpan(0, length), (IPEndPoint)remote, info.Interface, bootServerPort, socket);
            if (reply is not null)
                Send(socket, reply, sendBuffer);
        }
    }

    /// <summary>Decides a reply; returns it when it can leave now, or queues it for the committer.</summary>
    private DhcpReply? Process(ReadOnlySpan<byte> datagram, IPEndPoint source, int interfaceIndex, bool bootServerPort, Socket socket)
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
            {
                reply = _responder.Handle(request, source, bootServerPort);
                if (reply is { NeedsCommit: true })
                {
                    _awaitingCommit.Add((socket, reply));
                    _commitSignal.Release();
                    return null;
                }
            }
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

    /// <summary>Waits for ACKs, makes the journal durable for all of them at once, then sends them.</summary>
    private void CommitLoop()
    {
        var sendBuffer = new byte[DhcpConstants.MaxPacketSize];
        var batch = new List<(Socket Socket, DhcpReply Reply)>();
        while (!_stopping)
        {
            _commitSignal.Wait();
            JournalBatch records;
            lock (_gate)
            {
                batch.AddRange(_awaitingCommit);
                _awaitingCommit.Clear();
                records = _leases.TakeJournalBatch();
            }
            var durable = true;
            try
            {
                if (_leases.WriteJournalBatch(records))
                    Interlocked.Increment(ref _commits);
            }
            catch (IOException e)
            {
                _logger.LogError(e, "Lease journal write failed: withholding {Count} ACK(s)", batch.Count);
                durable = false;
            }
            if (durable && !_stopping)
            {
                foreach (var (socket, reply) in batch)
                    Send(socket, reply, sendBuffer);
            }
            batch.Clear();
        }
        // Changes decided before the stop still reach the disk, though their ACKs are not sent any more.
        lock (_gate)
            _leases.WriteJournalBatch(_leases.TakeJournalBatch());
    }

    private void Send(Socket socket, DhcpReply reply, byte[] buffer)
    {
        var length = reply.Packet.Encode(buffer);
        try
        {
            socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, reply.Destination);
            Interlocked.Increment(ref _replies);
        }
        catch (SocketException e)
        {
            _logger.LogWarning("DHCP {Type} to {Destination} not sent: {Error}", reply.Packet.MessageType, reply.Destination, e.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // The socket closed because the server is stopping: the reply is lost like any datagram.
        }
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
