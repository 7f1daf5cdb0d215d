using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidus.Wire.Tftp;

/// <summary>
/// A read-only TFTP server (RFC 1350 with the 2347/2348/2349/7440 options). One loop takes requests on the
/// well-known port; each accepted read runs as its own task on its own socket. Write requests, hostile paths and
/// malformed packets are answered with an ERROR and logged; nothing a client sends can stop the loop.
/// </summary>
public sealed class TftpServer : IAsyncDisposable
{
    /// <summary>Bigger than any valid request, so an oversized one is seen (and refused) rather than cut.</summary>
    private const int RequestBufferSize = 2048;
    /// <summary>Room for request bursts (mass reboot) while the loop hands them out.</summary>
    private const int RequestSocketReceiveBuffer = 1 << 20;

    private readonly TftpServerOptions _options;
    private readonly ILogger _logger;
    private readonly TftpDirectoryFileSource? _root;
    private readonly ITftpFileSource[] _sources;
    private readonly TftpRateLimiter? _rateLimiter;
    private readonly ConcurrentDictionary<IPEndPoint, TftpSession> _byClient = new();
    private readonly ConcurrentDictionary<TftpSession, Task> _running = new();
    private readonly ConcurrentDictionary<IPAddress, int> _bySource = new();
    private readonly byte[] _replyBuffer = new byte[TftpLimits.HeaderLength + TftpLimits.MaxErrorMessageLength + 1];
    private Socket? _socket;
    private int _active;

    public TftpServer(TftpServerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        var sources = new List<ITftpFileSource>(2);
        if (options.FileSource is not null)
        {
            sources.Add(options.FileSource);
        }

        if (options.RootDirectory is not null)
        {
            _root = new TftpDirectoryFileSource(options.RootDirectory);
            sources.Add(_root);
        }

        _sources = [.. sources];
        if (options.RequestsPerSecondPerSource > 0)
        {
            _rateLimiter = new TftpRateLimiter(options.RequestsPerSecondPerSource, options.RequestBurstPerSource);
        }
    }

    /// <summary>The bound request endpoint (the real port when the options asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_socket?.LocalEndPoint ?? throw new InvalidOperationException("the server is not started");

    /// <summary>Transfers running now.</summary>
    public int ActiveTransfers => Volatile.Read(ref _active);

    /// <summary>Binds the request socket; throws if the address is taken. RunAsync calls it when needed.</summary>
    public void Start()
    {
        if (_socket is not null)
        {
            return;
        }

        var socket = new Socket(_options.Endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            var level = _options.Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
            socket.SetSocketOption(level, SocketOptionName.PacketInformation, true);
            socket.ReceiveBufferSize = RequestSocketReceiveBuffer;
            socket.Bind(_options.Endpoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        TftpLog.Listening(_logger, LocalEndPoint);
    }

    /// <summary>Serves until CANCELLATIONTOKEN fires, then stops every transfer and returns.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Start();
        var socket = _socket!;
        var buffer = new byte[RequestBufferSize];
        var anyRemote = new IPEndPoint(_options.Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                SocketReceiveMessageFromResult received;
                try
                {
                    received = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, anyRemote, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (SocketException e)
                {
                    // Oversized datagrams, ICMP errors reported on the socket: never a reason to stop serving.
                    TftpLog.ListenerError(_logger, e.SocketErrorCode.ToString());
                    continue;
                }

                var client = (IPEndPoint)received.RemoteEndPoint;
                var local = received.PacketInformation.Address ?? _options.Endpoint.Address;
                HandleRequest(buffer.AsSpan(0, received.ReceivedBytes), client, local, cancellationToken);
            }
        }
        finally
        {
            await StopTransfersAsync();
            TftpLog.Stopped(_logger, LocalEndPoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopTransfersAsync();
        _socket?.Dispose();
        _root?.Dispose();
    }

    private void HandleRequest(ReadOnlySpan<byte> packet, IPEndPoint client, IPAddress local, CancellationToken cancellationToken)
    {
        if (_rateLimiter is not null && !_rateLimiter.TryAcquire(client.Address, Stopwatch.GetTimestamp()))
        {
            TftpLog.RateLimited(_logger, client);
            return;
        }

        if (!TftpDecoder.TryReadOpcode(packet, out var opcode))
        {
            TftpLog.Malformed(_logger, client, "shorter than an opcode");
            return;
        }

        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            // DATA/ACK/ERROR on the request port belong to no transfer; answering them would only help reflection.
            TftpLog.IgnoredOnRequestPort(_logger, opcode, client);
            return;
        }

        var status = TftpDecoder.TryDecodeRequest(packet, out var request, out var problem);
        if (status != TftpDecodeStatus.Done || request is null)
        {
            TftpLog.Malformed(_logger, client, $"{status}: {problem.Message}");
            Reply(client, problem.ReplyCode, problem.Message);
            return;
        }

        var shownName = TftpDecoder.Printable(request.FileName);
        if (request.Opcode == TftpOpcode.WriteRequest)
        {
            Refuse(shownName, client, TftpErrorCode.AccessViolation, "write requests are refused: this server is read-only");
            return;
        }

        if (request.Mode == TftpMode.Mail)
        {
            Refuse(shownName, client, TftpErrorCode.IllegalOperation, "mail mode is not supported");
            return;
        }

        if (!TftpPath.TryNormalize(request.FileName, _options.Paths, out var path, out var pathProblem))
        {
            Refuse(shownName, client, TftpErrorCode.AccessViolation, pathProblem);
            return;
        }

        TftpLog.ReadRequest(_logger, path, client, request.Mode, DescribeOptions(request));
        if (_byClient.TryGetValue(client, out var previous))
        {
            TftpLog.Replaced(_logger, previous.Path, client);
            previous.Cancel();
        }
        else if (_options.MaxSessionsPerSource > 0 && _bySource.GetValueOrDefault(client.Address) >= _options.MaxSessionsPerSource)
        {
            // Unanswered: an ERROR per request would turn a flood with a forged source into a reflected one.
            TftpLog.SourceBusy(_logger, client, _options.MaxSessionsPerSource);
            return;
        }
        else if (Volatile.Read(ref _active) >= _options.MaxSessions)
        {
            Refuse(path, client, TftpErrorCode.NotDefined, $"server busy: {_options.MaxSessions} transfers running");
            return;
        }

        var session = new TftpSession(_options, _logger, _sources, request, path, client, local, cancellationToken);
        _byClient[client] = session;
        _bySource.AddOrUpdate(client.Address, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _active);
        _running[session] = RunSessionAsync(session, client);
    }

    private async Task RunSessionAsync(TftpSession session, IPEndPoint client)
    {
        // Run off the request loop: opening the file and the first sends must not delay other requests.
        await Task.Yield();
        try
        {
            await session.RunAsync();
        }
        finally
        {
            _byClient.TryRemove(new KeyValuePair<IPEndPoint, TftpSession>(client, session));
            _running.TryRemove(session, out _);
            ReleaseSource(client.Address);
            Interlocked.Decrement(ref _active);
            session.Dispose();
        }
    }

    private void ReleaseSource(IPAddress source)
    {
        // Only the request loop adds; a session's end removes the entry when it was the source's last.
        while (_bySource.TryGetValue(source, out var n))
        {
            if (n <= 1 ? _bySource.TryRemove(new KeyValuePair<IPAddress, int>(source, n)) : _bySource.TryUpdate(source, n - 1, n))
            {
                return;
            }
        }
    }

    private async Task StopTransfersAsync()
    {
        foreach (var session in _running.Keys)
        {
            session.Cancel();
        }

        await Task.WhenAll(_running.Values);
    }

    private void Refuse(string file, IPEndPoint client, TftpErrorCode code, string reason)
    {
        TftpLog.Refused(_logger, file, client, code, reason);
        Reply(client, code, reason);
    }

    private void Reply(IPEndPoint client, TftpErrorCode code, string message)
    {
        var length = TftpEncoder.WriteError(_replyBuffer, code, message);
        try
        {
            _socket!.SendTo(_replyBuffer.AsSpan(0, length), SocketFlags.None, client);
        }
        catch (SocketException e)
        {
            TftpLog.ListenerError(_logger, $"error reply to {client} not sent: {e.SocketErrorCode}");
        }
    }

    private static string DescribeOptions(TftpRequest request)
    {
        var o = request.Options;
        var sb = new StringBuilder();
        Append(sb, TftpLimits.BlockSizeOption, o.BlockSize);
        Append(sb, TftpLimits.TransferSizeOption, o.TransferSize);
        Append(sb, TftpLimits.TimeoutOption, o.TimeoutSeconds);
        Append(sb, TftpLimits.WindowSizeOption, o.WindowSize);
        foreach (var name in request.IgnoredOptions)
        {
            sb.Append(sb.Length > 0 ? " " : string.Empty).Append(name).Append("(ignored)");
        }

        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string name, long? value)
    {
        if (value is { } v)
        {
            sb.Append(sb.Length > 0 ? " " : string.Empty).Append(name).Append('=').Append(v);
        }
    }
}
