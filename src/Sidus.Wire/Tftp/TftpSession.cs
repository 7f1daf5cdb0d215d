using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sidus.Wire.Tftp;

/// <summary>
/// One read transfer on its own socket (its own TID). Blocks are read once into a window buffer and resent from
/// there, so memory per transfer is windowsize x blksize whatever the file size.
/// </summary>
/// <remarks>
/// After the file is open the transfer runs on a thread of its own that blocks in recvfrom with SO_RCVTIMEO. A
/// lock-step transfer is one round trip per block: the kernel then wakes the waiting thread directly, where an
/// async receive would go through the socket engine's epoll thread and a thread-pool hop for every ACK (that
/// hand-off held Sidus to 0.68x tftpd-hpa's lock-step throughput). Threads are bounded by MaxSessions and get a small stack.
/// </remarks>
internal sealed class TftpSession : IDisposable
{
    /// <summary>Large enough for any ACK or ERROR a client sends; bigger datagrams are not for us.</summary>
    private const int ReceiveBufferSize = 1024;

    /// <summary>Linux SOL_UDP / UDP_SEGMENT (linux/udp.h), and the kernel's UDP_MAX_SEGMENTS.</summary>
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int MaxSegmentsPerSend = 64;
    /// <summary>Largest UDP payload in one IPv4 datagram: the whole segmented send must fit.</summary>
    private const int MaxUdpPayload = 65507;

    /// <summary>
    /// Stack of a transfer thread: the loop is shallow, and hundreds of transfers must not reserve 8 MiB each.
    /// </summary>
    private const int TransferThreadStackSize = 256 * 1024;

    private readonly TftpServerOptions _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<ITftpFileSource> _sources;
    private readonly TftpRequest _request;
    private readonly string _path;
    private readonly IPEndPoint _client;
    private readonly SocketAddress _clientAddress;
    private readonly IPAddress _localAddress;
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationToken _serverToken;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private readonly byte[] _controlBuffer = new byte[TftpLimits.MaxRequestLength];
    private readonly byte[] _strangerBuffer = new byte[64];
    private readonly SocketAddress _from;
    private readonly Lock _gate = new();
    private Socket? _socket;
    private int _receiveTimeoutMilliseconds;
    private bool _disposed;
    private bool _cancelledByServer;
    private long _retransmits;

    public TftpSession(
        TftpServerOptions options,
        ILogger logger,
        IReadOnlyList<ITftpFileSource> sources,
        TftpRequest request,
        string path,
        IPEndPoint client,
        IPAddress localAddress,
        CancellationToken serverToken)
    {
        _options = options;
        _logger = logger;
        _sources = sources;
        _request = request;
        _path = path;
        _client = client;
        _clientAddress = client.Serialize();
        _from = new SocketAddress(client.AddressFamily);
        _localAddress = localAddress;
        _serverToken = serverToken;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(serverToken);
        _cancellation.CancelAfter(options.MaxTransferTime);
    }

    public string Path => _path;

    /// <summary>Stops this transfer (a new request from the same client replaces it, or the server stops).</summary>
    public void Cancel()
    {
        // The request loop may find a session in its table just as the session ends and disposes itself.
        lock (_gate)
        {
            if (!_disposed)
            {
                _cancelledByServer = true;
                _cancellation.Cancel();
            }
        }
    }

    public async Task RunAsync()
    {
        var token = _cancellation.Token;
        try
        {
            _socket = new Socket(_client.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(_localAddress, 0));
            using var link = token.UnsafeRegister(static state => ((TftpSession)state!).Unblock(), this);
            var opened = await OpenAsync(token);
            if (opened is null)
            {
                return;
            }

            await using var file = opened;
            await RunOnTransferThreadAsync(file, token);
        }
        catch (Exception e) when (token.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Replacement and shutdown are logged by the server; only the time limit is this session's news.
            if (!_cancelledByServer && !_serverToken.IsCancellationRequested)
            {
                TftpLog.TransferTimeLimit(_logger, _path, _client, _options.MaxTransferTime);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            TftpLog.TransferFailed(_logger, e, _path, _client);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _socket?.Dispose();
            _cancellation.Dispose();
        }
    }

    /// <summary>Runs the transfer on its own thread; the task ends (with its exception, if any) when the thread does.</summary>
    private Task RunOnTransferThreadAsync(TftpFile file, CancellationToken token)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(
            () =>
            {
                try
                {
                    Transfer(file, token);
                    done.SetResult();
                }
                catch (Exception e)
                {
                    // Handed to the awaiting RunAsync, which logs or rethrows it like any other transfer error.
                    done.SetException(e);
                }
            },
            TransferThreadStackSize)
        {
            IsBackground = true,
            Name = "tftp-transfer",
        };
        thread.Start();
        return done.Task;
    }

    private void Transfer(TftpFile file, CancellationToken token)
    {
        var content = _request.Mode == TftpMode.Netascii ? new NetasciiReadStream(file.Content) : file.Content;
        var length = _request.Mode == TftpMode.Netascii ? null : file.Length;
        var parameters = TftpNegotiation.Negotiate(_request.Options, length, _options);
        var started = Stopwatch.GetTimestamp();
        var negotiated = parameters.OptionAck.Length > 0;
        if (negotiated && !Negotiate(parameters, token))
        {
            return;
        }

        // After ACK 0 the client has answered; without options, DATA 1 is the first packet and is not sent again.
        SendFile(content, parameters, started, answered: negotiated, token);
    }

    private async Task<TftpFile?> OpenAsync(CancellationToken token)
    {
        var fileRequest = new TftpFileRequest(_path, _client);
        foreach (var source in _sources)
        {
            var result = await source.OpenAsync(fileRequest, token);
            if (result.File is { } file)
            {
                return file;
            }

            if (result.Denied)
            {
                await RefuseAsync(TftpErrorCode.AccessViolation, "access violation", result.Reason, token);
                return null;
            }
        }

        await RefuseAsync(TftpErrorCode.FileNotFound, "file not found", "file not found", token);
        return null;
    }

    /// <summary>
    /// Sends the OACK once and waits for ACK 0; false when the transfer ends here. The OACK is not sent again: until
    /// the client answers, its request may be forged, and a client that lost the OACK repeats its request.
    /// </summary>
    private bool Negotiate(TftpTransferParameters parameters, CancellationToken token)
    {
        var length = TftpEncoder.WriteOptionAck(_controlBuffer, parameters.OptionAck);
        Send(_controlBuffer.AsSpan(0, length));
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.FirstAnswerTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = deadline - Stopwatch.GetTimestamp();
            var received = left > 0 ? ReceiveFromClient(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency), token) : -1;
            if (received < 0)
            {
                TftpLog.NoFirstAnswer(_logger, _path, _client, _options.FirstAnswerTimeout.TotalSeconds);
                return false;
            }

            var packet = _receiveBuffer.AsSpan(0, received);
            if (TftpDecoder.TryDecodeAck(packet, out var block) == TftpDecodeStatus.Done && block == 0)
            {
                return true;
            }

            if (IsError(packet, out var code, out var message))
            {
                // OVMF asks for tsize, reads the OACK and aborts before asking again: that is a normal end.
                TftpLog.EndedAfterOptionAck(_logger, _path, _client, code, message);
                return false;
            }
        }
    }

    private void SendFile(Stream content, TftpTransferParameters parameters, long started, bool answered, CancellationToken token)
    {
        var blockSize = parameters.BlockSize;
        var window = parameters.WindowSize;
        var slotSize = TftpLimits.HeaderLength + blockSize;
        var buffer = ArrayPool<byte>.Shared.Rent(slotSize * window);
        var lengths = new int[window];
        var segments = window > 1 ? EnableSegmentation(slotSize) : 1;
        try
        {
            long lastAcked = 0;
            long lastSent = 0;
            long lastRead = 0;
            var finalBlock = long.MaxValue;
            long bytes = 0;
            var silent = 0;
            var timeout = parameters.RetransmitTimeout;
            while (true)
            {
                var limit = Math.Min(lastAcked + window, finalBlock);
                while (lastRead < limit)
                {
                    var block = lastRead + 1;
                    var slot = (int)((block - 1) % window);
                    var packet = buffer.AsSpan(slot * slotSize, slotSize);
                    var n = ReadBlock(content, packet[TftpLimits.HeaderLength..]);
                    TftpEncoder.WriteDataHeader(packet, unchecked((ushort)block));
                    lengths[slot] = TftpLimits.HeaderLength + n;
                    lastRead = block;
                    bytes += n;
                    if (n < blockSize)
                    {
                        finalBlock = block;
                        limit = block;
                    }
                }

                while (lastSent < limit)
                {
                    // A run of consecutive slots goes out in one send: with UDP GSO the kernel cuts it into one
                    // datagram per block (all full-size but the last), otherwise the run is one block.
                    var first = (int)(lastSent % window);
                    var count = 1;
                    while (count < segments && lastSent + count < limit && first + count < window && lengths[first + count - 1] == slotSize)
                    {
                        count++;
                    }

                    Send(buffer.AsSpan(first * slotSize, ((count - 1) * slotSize) + lengths[first + count - 1]));
                    lastSent += count;
                }

                var received = ReceiveFromClient(answered ? timeout : _options.FirstAnswerTimeout, token);
                if (received < 0)
                {
                    if (!answered)
                    {
                        TftpLog.NoFirstAnswer(_logger, _path, _client, _options.FirstAnswerTimeout.TotalSeconds);
                        return;
                    }

                    if (++silent > _options.MaxRetransmits)
                    {
                        if (lastRead == finalBlock && lastAcked == finalBlock - 1)
                        {
                            TftpLog.FinalAckMissing(_logger, _path, _client, bytes);
                        }
                        else
                        {
                            TftpLog.TimedOut(_logger, _path, _client, silent - 1, lastAcked + 1);
                        }

                        return;
                    }

                    // Resend everything not yet acknowledged, waiting longer each time.
                    timeout = Backoff(timeout, parameters);
                    _retransmits += lastSent - lastAcked;
                    lastSent = lastAcked;
                    continue;
                }

                var reply = _receiveBuffer.AsSpan(0, received);
                if (TftpDecoder.TryDecodeAck(reply, out var acked) == TftpDecodeStatus.Done)
                {
                    var advance = (ushort)(acked - unchecked((ushort)lastAcked));
                    if (advance == 0 || advance > lastSent - lastAcked)
                    {
                        // A duplicate or stale ACK: answering it would double the traffic (Sorcerer's Apprentice).
                        continue;
                    }

                    lastAcked += advance;
                    answered = true;
                    silent = 0;
                    timeout = parameters.RetransmitTimeout;
                    if (lastAcked == finalBlock)
                    {
                        var elapsed = Stopwatch.GetElapsedTime(started);
                        var rate = bytes / 1e6 / Math.Max(elapsed.TotalSeconds, 1e-6);
                        TftpLog.Completed(_logger, _path, _client, bytes, (long)elapsed.TotalMilliseconds, rate, blockSize, window, _retransmits);
                        Telemetry.WireMetrics.TftpBytes.Add(bytes);
                        return;
                    }

                    if (lastAcked < lastSent)
                    {
                        // RFC 7440: an ACK inside the window means the client lost what follows; resend from there.
                        _retransmits += lastSent - lastAcked;
                        lastSent = lastAcked;
                    }

                    continue;
                }

                if (IsError(reply, out var code, out var message))
                {
                    TftpLog.AbortedByClient(_logger, _path, _client, lastAcked + 1, code, message);
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Turns on UDP GSO (UDP_SEGMENT) for this socket so a window goes out in a few sends instead of one per block;
    /// returns how many blocks one send may carry (1 when the kernel refuses, and we send block by block).
    /// </summary>
    private int EnableSegmentation(int slotSize)
    {
        var segments = Math.Min(MaxSegmentsPerSend, MaxUdpPayload / slotSize);
        if (segments < 2)
        {
            return 1;
        }

        Span<byte> value = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(value, slotSize);
        try
        {
            _socket!.SetRawSocketOption(SolUdp, UdpSegment, value);
            return segments;
        }
        catch (SocketException)
        {
            return 1;
        }
    }

    /// <summary>Any packet with the ERROR opcode ends the transfer, even one whose message lacks its NUL.</summary>
    private static bool IsError(ReadOnlySpan<byte> packet, out TftpErrorCode code, out string message)
    {
        code = default;
        message = string.Empty;
        return TftpDecoder.TryReadOpcode(packet, out var opcode) && opcode == TftpOpcode.Error &&
            TftpDecoder.TryDecodeError(packet, out code, out message) != TftpDecodeStatus.Invalid;
    }

    /// <summary>Fills DESTINATION unless the content ends first; the transfer thread may block on any stream.</summary>
    private static int ReadBlock(Stream content, Span<byte> destination)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = content.Read(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private TimeSpan Backoff(TimeSpan timeout, TftpTransferParameters parameters)
    {
        var ceiling = parameters.RetransmitTimeout > _options.MaxRetransmitTimeout ? parameters.RetransmitTimeout : _options.MaxRetransmitTimeout;
        var doubled = timeout * 2;
        return doubled > ceiling ? ceiling : doubled;
    }

    /// <summary>UDP sends do not wait for the peer: a plain send costs less than the async machinery around it.</summary>
    private void Send(ReadOnlySpan<byte> packet) => _socket!.SendTo(packet, SocketFlags.None, _clientAddress);

    private Task RefuseAsync(TftpErrorCode code, string message, string reason, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        TftpLog.Refused(_logger, _path, _client, code, reason);
        var length = TftpEncoder.WriteError(_controlBuffer, code, message);
        Send(_controlBuffer.AsSpan(0, length));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Wakes the transfer thread out of recvfrom when the session is cancelled: shutting down the receive side makes
    /// a blocked recvfrom return at once (sends still work, so nothing else fails on the way out).
    /// </summary>
    private void Unblock()
    {
        lock (_gate)
        {
            if (_disposed || _socket is null)
            {
                return;
            }

            try
            {
                _socket.Shutdown(SocketShutdown.Receive);
            }
            catch (SocketException)
            {
                // An unconnected UDP socket reports ENOTCONN, yet Linux has marked it shut and woken the reader.
            }
        }
    }

    /// <summary>SO_RCVTIMEO for the next recvfrom, set only when it changes (one value per ACK wait in practice).</summary>
    private void SetReceiveTimeout(long ticks)
    {
        // 0 would mean "wait forever": anything left rounds up to at least a millisecond.
        var milliseconds = (int)Math.Clamp((ticks * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency, 1, int.MaxValue);
        if (milliseconds != _receiveTimeoutMilliseconds)
        {
            _socket!.ReceiveTimeout = milliseconds;
            _receiveTimeoutMilliseconds = milliseconds;
        }
    }

    /// <summary>
    /// Waits for a datagram from the client's TID; packets from anyone else get error 5 and do not disturb the
    /// transfer. Returns the length, or -1 when TIMEOUT passes first. Blocks the transfer thread.
    /// </summary>
    private int ReceiveFromClient(TimeSpan timeout, CancellationToken token)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            token.ThrowIfCancellationRequested();
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return -1;
            }

            int received;
            try
            {
                SetReceiveTimeout(remaining);
                received = _socket!.ReceiveFrom(_receiveBuffer, SocketFlags.None, _from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                token.ThrowIfCancellationRequested();
                return -1;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                // Longer than any ACK or ERROR: not part of a read transfer.
                continue;
            }

            // A shut-down socket (cancellation) returns 0 bytes at once.
            token.ThrowIfCancellationRequested();
            if (_from.Equals(_clientAddress))
            {
                return received;
            }

            var stranger = (IPEndPoint)_client.Create(_from);
            TftpLog.WrongTransferId(_logger, _path, _client, stranger);
            var length = TftpEncoder.WriteError(_strangerBuffer, TftpErrorCode.UnknownTransferId, "unknown transfer ID");
            _socket.SendTo(_strangerBuffer.AsSpan(0, length), SocketFlags.None, _from);
        }
    }
}
