using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Sidus.Boot.Tftp;

/// <summary>
/// One read transfer on its own socket (its own TID). Blocks are read once into a window buffer and resent from
/// there, so memory per transfer is windowsize x blksize whatever the file size.
/// </summary>
internal sealed class TftpSession : IDisposable
{
    /// <summary>Large enough for any ACK or ERROR a client sends; bigger datagrams are not for us.</summary>
    private const int ReceiveBufferSize = 1024;

    private readonly TftpServerOptions _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<ITftpFileSource> _sources;
    private readonly TftpRequest _request;
    private readonly string _path;
    private readonly IPEndPoint _client;
    private readonly SocketAddress _clientAddress;
    private readonly IPAddress _localAddress;
    private readonly CancellationTokenSource _cancellation;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private readonly byte[] _controlBuffer = new byte[TftpLimits.MaxRequestLength];
    private readonly byte[] _strangerBuffer = new byte[64];
    private readonly SocketAddress _from;
    private readonly Lock _gate = new();
    private Socket? _socket;
    private bool _disposed;
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
            await TransferAsync(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Replaced by a newer request, the time limit, or shutdown: the cause is logged where it happens.
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

    private async Task TransferAsync(CancellationToken token)
    {
        var opened = await OpenAsync(token);
        if (opened is null)
        {
            return;
        }

        await using var file = opened;
        var content = _request.Mode == TftpMode.Netascii ? new NetasciiReadStream(file.Content) : file.Content;
        var length = _request.Mode == TftpMode.Netascii ? null : file.Length;
        var parameters = TftpNegotiation.Negotiate(_request.Options, length, _options);
        var started = Stopwatch.GetTimestamp();
        if (parameters.OptionAck.Length > 0 && !await NegotiateAsync(parameters, token))
        {
            return;
        }

        await SendFileAsync(content, parameters, started, token);
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

    /// <summary>Sends the OACK until ACK 0 comes; false when the transfer ends here.</summary>
    private async Task<bool> NegotiateAsync(TftpTransferParameters parameters, CancellationToken token)
    {
        var length = TftpEncoder.WriteOptionAck(_controlBuffer, parameters.OptionAck);
        var timeout = parameters.RetransmitTimeout;
        var silent = 0;
        await SendAsync(_controlBuffer.AsMemory(0, length), token);
        while (true)
        {
            var received = await ReceiveFromClientAsync(timeout, token);
            if (received < 0)
            {
                if (++silent > _options.MaxRetransmits)
                {
                    TftpLog.TimedOut(_logger, _path, _client, silent - 1, 0);
                    return false;
                }

                timeout = Backoff(timeout, parameters);
                _retransmits++;
                await SendAsync(_controlBuffer.AsMemory(0, length), token);
                continue;
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

    private async Task SendFileAsync(Stream content, TftpTransferParameters parameters, long started, CancellationToken token)
    {
        var blockSize = parameters.BlockSize;
        var window = parameters.WindowSize;
        var slotSize = TftpLimits.HeaderLength + blockSize;
        var buffer = ArrayPool<byte>.Shared.Rent(slotSize * window);
        var lengths = new int[window];
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
                while (lastSent < finalBlock && lastSent < lastAcked + window)
                {
                    var block = lastSent + 1;
                    var slot = (int)((block - 1) % window);
                    var packet = buffer.AsMemory(slot * slotSize, slotSize);
                    if (block > lastRead)
                    {
                        var n = await ReadBlockAsync(content, packet[TftpLimits.HeaderLength..], token);
                        TftpEncoder.WriteDataHeader(packet.Span, unchecked((ushort)block));
                        lengths[slot] = TftpLimits.HeaderLength + n;
                        lastRead = block;
                        bytes += n;
                        if (n < blockSize)
                        {
                            finalBlock = block;
                        }
                    }

                    await SendAsync(packet[..lengths[slot]], token);
                    lastSent = block;
                }

                var received = await ReceiveFromClientAsync(timeout, token);
                if (received < 0)
                {
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
                    silent = 0;
                    timeout = parameters.RetransmitTimeout;
                    if (lastAcked == finalBlock)
                    {
                        var elapsed = Stopwatch.GetElapsedTime(started);
                        var rate = bytes / 1e6 / Math.Max(elapsed.TotalSeconds, 1e-6);
                        TftpLog.Completed(_logger, _path, _client, bytes, (long)elapsed.TotalMilliseconds, rate, blockSize, window, _retransmits);
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

    /// <summary>Any packet with the ERROR opcode ends the transfer, even one whose message lacks its NUL.</summary>
    private static bool IsError(ReadOnlySpan<byte> packet, out TftpErrorCode code, out string message)
    {
        code = default;
        message = string.Empty;
        return TftpDecoder.TryReadOpcode(packet, out var opcode) && opcode == TftpOpcode.Error &&
            TftpDecoder.TryDecodeError(packet, out code, out message) != TftpDecodeStatus.Invalid;
    }

    private static async ValueTask<int> ReadBlockAsync(Stream content, Memory<byte> destination, CancellationToken token)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = await content.ReadAsync(destination[total..], token);
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

    private ValueTask<int> SendAsync(ReadOnlyMemory<byte> packet, CancellationToken token) =>
        _socket!.SendToAsync(packet, SocketFlags.None, _clientAddress, token);

    private async Task RefuseAsync(TftpErrorCode code, string message, string reason, CancellationToken token)
    {
        TftpLog.Refused(_logger, _path, _client, code, reason);
        var length = TftpEncoder.WriteError(_controlBuffer, code, message);
        await SendAsync(_controlBuffer.AsMemory(0, length), token);
    }

    /// <summary>
    /// Waits for a datagram from the client's TID; packets from anyone else get error 5 and do not disturb the
    /// transfer. Returns the length, or -1 when TIMEOUT passes first.
    /// </summary>
    private async ValueTask<int> ReceiveFromClientAsync(TimeSpan timeout, CancellationToken token)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return -1;
            }

            int received;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                wait.CancelAfter(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
                try
                {
                    received = await _socket!.ReceiveFromAsync(_receiveBuffer, SocketFlags.None, _from, wait.Token);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    return -1;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    // Longer than any ACK or ERROR: not part of a read transfer.
                    continue;
                }
            }

            if (_from.Equals(_clientAddress))
            {
                return received;
            }

            var stranger = (IPEndPoint)_client.Create(_from);
            TftpLog.WrongTransferId(_logger, _path, _client, stranger);
            var length = TftpEncoder.WriteError(_strangerBuffer, TftpErrorCode.UnknownTransferId, "unknown transfer ID");
            await _socket!.SendToAsync(_strangerBuffer.AsMemory(0, length), SocketFlags.None, _from, token);
        }
    }
}
