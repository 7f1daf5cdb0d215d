using System.Buffers;
using System.Diagnostics;

namespace Sidus.Wire.Nbd;

/// <summary>
/// One client: the handshake (bounded in option count, option length and time per step), then the transmission
/// phase on the export it chose. Reads are answered with positional reads of the export file in chunks, so no
/// request buffers more than one chunk and any number of connections share one file.
/// </summary>
internal sealed class NbdConnection
{
    /// <summary>What every export offers: read-only, flush accepted (a no-op), safe for many connections per client.</summary>
    public const NbdTransmissionFlags ExportFlags =
        NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.ReadOnly | NbdTransmissionFlags.SendFlush | NbdTransmissionFlags.CanMultiConn;

    /// <summary>Keep-alive probes find nodes that vanished (power cut) so their connections and exports are released.</summary>
    private const int KeepAliveIdleSeconds = 60;
    private const int KeepAliveIntervalSeconds = 10;
    private const int KeepAliveProbes = 6;

    /// <summary>Characters of a name, description or message sent in one reply (each at most 3 UTF-8 bytes).</summary>
    private const int MaxTextCharacters = 1024;

    /// <summary>Largest handshake reply: a name and a description of <see cref="MaxTextCharacters"/>, with headers.</summary>
    private const int HandshakeBufferLength = NbdProtocol.OptionReplyHeaderLength + 4 + (2 * 3 * MaxTextCharacters) + NbdProtocol.ExportNameReplyLength + NbdProtocol.ExportNameReplyZeros;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly NbdServerOptions _options;
    private readonly ILogger _logger;
    private readonly EndPoint? _client;
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;
    private string? _export;
    private long _bytesRead;
    private long _reads;
    private TimeSpan _handshakeWaited;

    public NbdConnection(Socket socket, NbdServerOptions options, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _logger = logger;
        _client = socket.RemoteEndPoint;
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, KeepAliveIdleSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, KeepAliveIntervalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, KeepAliveProbes);
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public NbdConnectionStatus Status => new(_client, Volatile.Read(ref _export), Interlocked.Read(ref _bytesRead), Interlocked.Read(ref _reads), _since);

    public async Task RunAsync(CancellationToken cancellation)
    {
        NbdExport? export = null;
        var reason = "client disconnected";
        var clock = Stopwatch.StartNew();
        try
        {
            export = await HandshakeAsync(cancellation);
            if (export is not null)
            {
                Volatile.Write(ref _export, export.Name);
                NbdLog.Opened(_logger, _client, export.Name, export.Size);
                reason = await TransmitAsync(export, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            reason = "server stopping";
        }
        catch (OperationCanceledException)
        {
            reason = $"the client was silent or slow: no handshake in time ({_options.HandshakeStepTimeout.TotalSeconds:F0} s a step, {_options.HandshakeTimeout.TotalSeconds:F0} s in all)";
            NbdLog.Dropped(_logger, _client, reason);
        }
        catch (EndOfStreamException)
        {
            reason = export is null ? "client left during the handshake" : "client closed the connection mid-request";
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            reason = "connection failed: " + e.Message;
            if (export is null)
            {
                NbdLog.Dropped(_logger, _client, reason);
            }
        }
        finally
        {
            await _stream.DisposeAsync();
            if (export is not null)
            {
                export.Dispose();
                NbdLog.Closed(_logger, _client, export.Name, Interlocked.Read(ref _bytesRead), Interlocked.Read(ref _reads), clock.Elapsed.TotalSeconds, reason);
            }
        }
    }

    /// <summary>Negotiates; returns the export chosen by NBD_OPT_GO / NBD_OPT_EXPORT_NAME, or null when the client left or was dropped.</summary>
    private async Task<NbdExport?> HandshakeAsync(CancellationToken cancellation)
    {
        var buffer = new byte[HandshakeBufferLength];
        var n = NbdHandshake.WriteGreeting(buffer, NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes);
        await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);

        await ReadStepAsync(buffer.AsMemory(0, NbdProtocol.ClientFlagsLength), cancellation);
        if (NbdHandshake.TryReadClientFlags(buffer, out var clientFlags, out var problem) != NbdDecodeStatus.Done)
        {
            NbdLog.Dropped(_logger, _client, problem!);
            return null;
        }

        var noZeroes = (clientFlags & NbdClientFlags.NoZeroes) != 0;
        var data = new byte[NbdProtocol.MaxOptionLength];
        for (var count = 0; count < NbdProtocol.MaxOptionsPerConnection; count++)
        {
            await ReadStepAsync(buffer.AsMemory(0, NbdProtocol.OptionHeaderLength), cancellation);
            if (NbdHandshake.TryReadOptionHeader(buffer, out var header, out problem) != NbdDecodeStatus.Done)
            {
                NbdLog.Dropped(_logger, _client, problem!);
                return null;
            }

            if (header.Length > NbdProtocol.MaxOptionLength)
            {
                var message = $"option data of {header.Length} bytes is more than the {NbdProtocol.MaxOptionLength} this server reads";
                await ReplyAsync(buffer, header.Option, NbdReplyType.ErrorTooBig, message, cancellation);
                NbdLog.Dropped(_logger, _client, $"{header.Option}: {message}");
                return null;
            }

            var payload = data.AsMemory(0, (int)header.Length);
            await ReadStepAsync(payload, cancellation);
            switch (header.Option)
            {
                case NbdOption.ExportName:
                {
                    if (NbdHandshake.TryReadExportName(payload.Span, out var name, out problem) != NbdDecodeStatus.Done)
                    {
                        NbdLog.Dropped(_logger, _client, "NBD_OPT_EXPORT_NAME: " + problem);
                        return null;
                    }

                    // This old option has no error reply: the protocol's answer to a bad name is hanging up.
                    var opened = await _options.Exports.OpenAsync(name, _client as IPEndPoint, cancellation);
                    if (opened.Export is not { } export)
                    {
                        NbdLog.Dropped(_logger, _client, $"NBD_OPT_EXPORT_NAME '{Printable(WithoutCredential(name))}': {opened.Message}");
                        return null;
                    }

                    try
                    {
                        n = NbdHandshake.WriteExportNameReply(buffer, (ulong)export.Size, ExportFlags, noZeroes);
                        await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                    }
                    catch
                    {
                        export.Dispose();
                        throw;
                    }

                    return export;
                }

                case NbdOption.Abort:
                    await TryAcknowledgeAbortAsync(buffer, cancellation);
                    return null;

                case NbdOption.List:
                    if (header.Length != 0)
                    {
                        await RefuseAsync(buffer, header.Option, NbdReplyType.ErrorInvalid, "NBD_OPT_LIST carries no data", cancellation);
                        break;
                    }

                    var exports = _options.Exports.List();
                    foreach (var e in exports)
                    {
                        n = NbdHandshake.WriteServerEntry(buffer, Limit(e.Name), e.Description is null ? null : Limit(e.Description));
                        await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                    }

                    NbdLog.Listed(_logger, _client, exports.Count);
                    await ReplyAsync(buffer, header.Option, NbdReplyType.Ack, null, cancellation);
                    break;

                case NbdOption.Info:
                case NbdOption.Go:
                    if (await InfoAsync(buffer, header.Option, payload, cancellation) is { } chosen)
                    {
                        return chosen;
                    }

                    break;

                default:
                    await RefuseAsync(buffer, header.Option, NbdReplyType.ErrorUnsupported, $"option {(uint)header.Option} is not supported by this server", cancellation);
                    break;
            }
        }

        NbdLog.Dropped(_logger, _client, $"more than {NbdProtocol.MaxOptionsPerConnection} options without choosing an export");
        return null;
    }

    /// <summary>Answers NBD_OPT_INFO (returns null) or NBD_OPT_GO (returns the opened export, or null when refused).</summary>
    private async Task<NbdExport?> InfoAsync(byte[] buffer, NbdOption option, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        if (NbdHandshake.TryReadInfoRequest(payload.Span, out var request, out var problem) != NbdDecodeStatus.Done)
        {
            await RefuseAsync(buffer, option, NbdReplyType.ErrorInvalid, problem!, cancellation);
            return null;
        }

        var opened = await _options.Exports.OpenAsync(request!.Name, _client as IPEndPoint, cancellation);
        if (opened.Export is not { } export)
        {
            await RefuseAsync(buffer, option, opened.Error, opened.Message ?? "no such export", cancellation);
            return null;
        }

        try
        {
            var n = NbdHandshake.WriteInfoExport(buffer, option, (ulong)export.Size, ExportFlags);
            await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
            foreach (var item in request.Items.Distinct())
            {
                n = item switch
                {
                    NbdInfoType.Name => NbdHandshake.WriteInfoText(buffer, option, NbdInfoType.Name, Limit(export.Name)),
                    NbdInfoType.Description when export.Description is { } d => NbdHandshake.WriteInfoText(buffer, option, NbdInfoType.Description, Limit(d)),
                    NbdInfoType.BlockSize => NbdHandshake.WriteInfoBlockSize(
                        buffer, option, NbdProtocol.MinimumBlockSize, NbdProtocol.PreferredBlockSize, NbdProtocol.MaxRequestLength),
                    _ => 0,
                };
                if (n > 0)
                {
                    await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                }
            }

            await ReplyAsync(buffer, option, NbdReplyType.Ack, null, cancellation);
        }
        catch
        {
            export.Dispose();
            throw;
        }

        if (option == NbdOption.Go)
        {
            return export;
        }

        export.Dispose();
        return null;
    }

    /// <summary>Serves requests until the client disconnects; returns why the connection ended.</summary>
    private async Task<string> TransmitAsync(NbdExport export, CancellationToken cancellation)
    {
        var header = new byte[NbdProtocol.RequestLength];
        var chunk = _options.ReadChunkLength;
        var buffer = ArrayPool<byte>.Shared.Rent(NbdProtocol.SimpleReplyLength + chunk);
        var size = (ulong)export.Size;
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header, cancellation);
                if (NbdTransmission.TryReadRequest(header, out var request, out var problem) != NbdDecodeStatus.Done)
                {
                    NbdLog.Dropped(_logger, _client, problem!);
                    return "protocol error: " + problem;
                }

                if (request.Command == NbdCommand.Disconnect)
                {
                    return "client disconnected";
                }

                if (request.Command == NbdCommand.Write)
                {
                    if (request.Length > NbdProtocol.MaxRequestLength)
                    {
                        NbdLog.Dropped(_logger, _client, $"write of {request.Length} bytes (more than {NbdProtocol.MaxRequestLength})");
                        return "protocol error: oversized write";
                    }

                    await DiscardAsync(buffer, request.Length, cancellation);
                }

                var error = NbdTransmission.Check(request, size);
                if (error != NbdError.None)
                {
                    NbdLog.RequestRefused(_logger, _client, request.Command, request.Offset, request.Length, export.Name, error);
                    var n = NbdTransmission.WriteSimpleReply(buffer, error, request.Cookie);
                    await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                    continue;
                }

                if (request.Command == NbdCommand.Flush)
                {
                    var n = NbdTransmission.WriteSimpleReply(buffer, NbdError.None, request.Cookie);
                    await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                    continue;
                }

                await SendReadAsync(export, request, buffer, chunk, cancellation);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The reply header and the data, one chunk per positional read; the header goes with the first chunk.</summary>
    private async Task SendReadAsync(NbdExport export, NbdRequest request, byte[] buffer, int chunk, CancellationToken cancellation)
    {
        var offset = (long)request.Offset;
        var left = (int)request.Length;
        var headerLength = NbdTransmission.WriteSimpleReply(buffer, NbdError.None, request.Cookie);
        while (left > 0)
        {
            var want = Math.Min(left, chunk);
            var filled = 0;
            while (filled < want)
            {
                var got = await RandomAccess.ReadAsync(export.Handle, buffer.AsMemory(headerLength + filled, want - filled), offset + filled, cancellation);
                if (got == 0)
                {
                    // The export file is shorter than when it was opened: never valid for an immutable export.
                    throw new IOException($"export {export.Name} ended at {offset + filled} bytes, before its advertised {export.Size}");
                }

                filled += got;
            }

            await _stream.WriteAsync(buffer.AsMemory(0, headerLength + want), cancellation);
            headerLength = 0;
            offset += want;
            left -= want;
            Interlocked.Add(ref _bytesRead, want);
            Telemetry.WireMetrics.NbdBytes.Add(want);
        }

        Interlocked.Increment(ref _reads);
    }

    private async Task DiscardAsync(byte[] buffer, uint length, CancellationToken cancellation)
    {
        var left = (long)length;
        while (left > 0)
        {
            var n = (int)Math.Min(left, buffer.Length);
            await _stream.ReadExactlyAsync(buffer.AsMemory(0, n), cancellation);
            left -= n;
        }
    }

    private async Task ReadStepAsync(Memory<byte> destination, CancellationToken cancellation)
    {
        // Each step is bounded, and so is the client's whole part of the handshake (a client sending one byte
        // now and then would otherwise hold the connection through every option it may send).
        var left = _options.HandshakeTimeout - _handshakeWaited;
        using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        step.CancelAfter(left < _options.HandshakeStepTimeout ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : _options.HandshakeStepTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _stream.ReadExactlyAsync(destination, step.Token);
        }
        finally
        {
            _handshakeWaited += Stopwatch.GetElapsedTime(started);
        }
    }

    private async Task RefuseAsync(byte[] buffer, NbdOption option, NbdReplyType type, string message, CancellationToken cancellation)
    {
        NbdLog.OptionRefused(_logger, _client, option, type, message);
        await ReplyAsync(buffer, option, type, message, cancellation);
    }

    private async Task ReplyAsync(byte[] buffer, NbdOption option, NbdReplyType type, string? message, CancellationToken cancellation)
    {
        var n = NbdHandshake.WriteReply(buffer, option, type, message is null ? null : Limit(message));
        await _stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
    }

    /// <summary>NBD_OPT_ABORT: the client may already have closed, so a failed acknowledgement is not an error.</summary>
    private async Task TryAcknowledgeAbortAsync(byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            await ReplyAsync(buffer, NbdOption.Abort, NbdReplyType.Ack, null, cancellation);
        }
        catch (IOException)
        {
            // The client left right after asking to: what it asked for.
        }
    }

    /// <summary>Cuts text sent to the client so any reply fits the handshake buffer.</summary>
    private static string Limit(string text) => text.Length <= MaxTextCharacters ? text : text[..MaxTextCharacters];

    /// <summary>An export name as logged: what follows '!' is a credential (Sidus's node sessions) and never logged.</summary>
    private static string WithoutCredential(string name) =>
        name.IndexOf('!', StringComparison.Ordinal) is var bang and >= 0 ? name[..bang] + "!..." : name;

    private static string Printable(string name)
    {
        var cut = name.Length > 80 ? name[..80] + "..." : name;
        return string.Concat(cut.Select(c => char.IsControl(c) ? '?' : c));
    }
}
