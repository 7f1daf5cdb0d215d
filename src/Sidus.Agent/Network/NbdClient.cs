using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidus.Agent.Network;

/// <summary>An export negotiated to the transmission phase: the socket is ready to be handed to the kernel.</summary>
internal sealed record NbdExport(Socket Socket, string Name, ulong Size, ushort Flags);

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

    private static async Task<(ulong Size, ushort Flags)> HandshakeAsync(Socket socket, string export, CancellationToken cancellation)
    {
        var greeting = await ReadAsync(socket, NbdProtocol.GreetingLength, cancellation);
        NbdProtocol.TryDecodeGreeting(greeting, out var serverFlags);
        var buffer = new byte[Math.Max(NbdProtocol.ClientFlagsLength, NbdProtocol.GoLength(export))];
        await WriteAsync(socket, buffer.AsMemory(0, NbdProtocol.EncodeClientFlags(serverFlags, buffer)), cancellation);
        await WriteAsync(socket, buffer.AsMemory(0, NbdProtocol.EncodeGo(export, buffer)), cancellation);
        ulong? size = null;
        ushort flags = 0;
        for (var i = 0; i < MaxReplies; i++)
        {
            var header = await ReadAsync(socket, NbdProtocol.ReplyHeaderLength, cancellation);
            NbdProtocol.TryDecodeReplyHeader(header, NbdProtocol.OptGo, out var type, out var length);
            var data = await ReadAsync(socket, length, cancellation);
            switch (type)
            {
                case NbdProtocol.RepInfo:
                    if (NbdProtocol.TryDecodeExportInfo(data, out var s, out var f))
                    {
                        (size, flags) = (s, f);
                    }

                    break;
                case NbdProtocol.RepAck:
                    return size is { } known
                        ? (known, flags)
                        : throw new NbdProtocolException("the server acknowledged NBD_OPT_GO without sending NBD_INFO_EXPORT");
                case NbdProtocol.RepErrUnsupported:
                    return await ExportNameAsync(socket, export, serverFlags, cancellation);
                case >= NbdProtocol.RepErrorBit:
                    var text = Encoding.UTF8.GetString(data).Trim();
                    throw new NbdRefusedException($"the server refused export {export}: {NbdProtocol.DescribeError(type)}{(text.Length > 0 ? " (" + text + ")" : string.Empty)}");
                default:
                    throw new NbdProtocolException($"unexpected reply type {type} to NBD_OPT_GO");
            }
        }

        throw new NbdProtocolException($"more than {MaxReplies} replies to NBD_OPT_GO");
    }

    private static async Task<(ulong Size, ushort Flags)> ExportNameAsync(Socket socket, string export, ushort serverFlags, CancellationToken cancellation)
    {
        var request = new byte[NbdProtocol.ExportNameLength(export)];
        await WriteAsync(socket, request.AsMemory(0, NbdProtocol.EncodeExportName(export, request)), cancellation);
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

        NbdProtocol.TryDecodeExportNameReply(reply, out var size, out var flags);
        if ((serverFlags & NbdProtocol.HandshakeNoZeroes) == 0)
        {
            await ReadAsync(socket, NbdProtocol.ExportNameZeroes, cancellation);
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
