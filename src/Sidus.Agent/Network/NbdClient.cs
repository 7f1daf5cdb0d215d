using Sidus.Wire.Nbd;

namespace Sidus.Agent.Network;

/// <summary>An export negotiated to the transmission phase: the socket is ready to be handed to the kernel.</summary>
internal sealed record NbdExport(Socket Socket, string Name, ulong Size, NbdTransmissionFlags Flags);

/// <summary>The server answered, but refused the export (unknown, policy...): what it said is in the message.</summary>
internal sealed class NbdRefusedException(string message) : IOException(message);

/// <summary>
/// The NBD handshake in user space: TCP connect, fixed newstyle, NBD_OPT_GO for the export (NBD_OPT_EXPORT_NAME when
/// the server does not know GO). The kernel's nbd driver then takes the socket over (<see cref="NbdNetlink"/>), so
/// the socket must not be closed or shut down here: the kernel holds its own reference, and close-on-exec drops ours
/// at switch_root.
/// </summary>
internal static class NbdClient
{
    public const int DefaultPort = 10809;
    private const int MaxReplies = 64;
    private const int KeepAliveIdleSeconds = 30;
    private const int KeepAliveIntervalSeconds = 10;
    private const int KeepAliveProbes = 3;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(20);

    public static async Task<NbdExport> ConnectAsync(IPEndPoint server, string export, CancellationToken cancellation)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                connect.CancelAfter(ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(server, connect.Token);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    throw new IOException($"no answer from {server} within {ConnectTimeout.TotalSeconds:F0} s");
                }
            }

            socket.NoDelay = true;
            KeepAlive(socket);
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            handshake.CancelAfter(HandshakeTimeout);
            try
            {
                var (size, flags) = await HandshakeAsync(socket, export, handshake.Token);
                return new NbdExport(socket, export, size, flags);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new IOException($"the NBD handshake with {server} did not finish within {HandshakeTimeout.TotalSeconds:F0} s");
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// TCP keepalive on the connection the kernel will own: a server that vanishes without closing it (power loss,
    /// cable) is noticed within about a minute even when no I/O is pending, so the nbd driver declares the link
    /// dead and the watcher (agent nbd-watch) can reconnect.
    /// </summary>
    private static void KeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, KeepAliveIdleSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, KeepAliveIntervalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, KeepAliveProbes);
    }

    private static async Task<(ulong Size, NbdTransmissionFlags Flags)> HandshakeAsync(Socket socket, string export, CancellationToken cancellation)
    {
        var greeting = await ReadAsync(socket, NbdProtocol.GreetingLength, cancellation);
        NbdClientCodec.TryDecodeGreeting(greeting, out var serverFlags);
        var buffer = new byte[Math.Max(NbdProtocol.ClientFlagsLength, NbdClientCodec.GoLength(export))];
        await WriteAsync(socket, buffer.AsMemory(0, NbdClientCodec.EncodeClientFlags(serverFlags, buffer)), cancellation);
        await WriteAsync(socket, buffer.AsMemory(0, NbdClientCodec.EncodeGo(export, buffer)), cancellation);
        ulong? size = null;
        NbdTransmissionFlags flags = 0;
        for (var i = 0; i < MaxReplies; i++)
        {
            var header = await ReadAsync(socket, NbdProtocol.OptionReplyHeaderLength, cancellation);
            NbdClientCodec.TryDecodeReplyHeader(header, NbdOption.Go, out var type, out var length);
            var data = await ReadAsync(socket, length, cancellation);
            switch (type)
            {
                case NbdReplyType.Info:
                    if (NbdClientCodec.TryDecodeExportInfo(data, out var s, out var f))
                    {
                        (size, flags) = (s, f);
                    }

                    break;
                case NbdReplyType.Ack:
                    return size is { } known
                        ? (known, flags)
                        : throw new NbdProtocolException("the server acknowledged NBD_OPT_GO without sending NBD_INFO_EXPORT");
                case NbdReplyType.ErrorUnsupported:
                    return await ExportNameAsync(socket, export, serverFlags, cancellation);
                case >= NbdReplyType.ErrorBit:
                    var text = Encoding.UTF8.GetString(data).Trim();
                    throw new NbdRefusedException($"the server refused export {export}: {NbdClientCodec.DescribeError(type)}{(text.Length > 0 ? " (" + text + ")" : string.Empty)}");
                default:
                    throw new NbdProtocolException($"unexpected reply type {(uint)type} to NBD_OPT_GO");
            }
        }

        throw new NbdProtocolException($"more than {MaxReplies} replies to NBD_OPT_GO");
    }

    private static async Task<(ulong Size, NbdTransmissionFlags Flags)> ExportNameAsync(Socket socket, string export, NbdHandshakeFlags serverFlags, CancellationToken cancellation)
    {
        var request = new byte[NbdClientCodec.ExportNameLength(export)];
        await WriteAsync(socket, request.AsMemory(0, NbdClientCodec.EncodeExportName(export, request)), cancellation);
        byte[] reply;
        try
        {
            reply = await ReadAsync(socket, NbdProtocol.ExportNameReplyLength, cancellation);
        }
        catch (EndOfStreamException)
        {
            // NBD_OPT_EXPORT_NAME has no error reply: a server that does not know the name just hangs up.
            throw new NbdRefusedException($"the server closed the connection when asked for export {export} (unknown export?)");
        }

        NbdClientCodec.TryDecodeExportNameReply(reply, out var size, out var flags);
        if ((serverFlags & NbdHandshakeFlags.NoZeroes) == 0)
        {
            await ReadAsync(socket, NbdProtocol.ExportNameReplyZeros, cancellation);
        }

        return (size, flags);
    }

    private static async Task<byte[]> ReadAsync(Socket socket, int count, CancellationToken cancellation)
    {
        var buffer = new byte[count];
        var have = 0;
        while (have < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None, cancellation);
            if (n == 0)
            {
                throw new EndOfStreamException("the server closed the connection during the NBD handshake");
            }

            have += n;
        }

        return buffer;
    }

    private static async Task WriteAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellation)
    {
        while (!data.IsEmpty)
        {
            var n = await socket.SendAsync(data, SocketFlags.None, cancellation);
            data = data[n..];
        }
    }
}
