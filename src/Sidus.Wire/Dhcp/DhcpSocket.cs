namespace Sidus.Wire.Dhcp;

/// <summary>Opens the UDP sockets a DHCP server needs: bound to one interface (SO_BINDTODEVICE, so broadcasts leave
/// through it and only its traffic arrives), broadcast allowed, arrival interface reported (IP_PKTINFO).
/// SO_REUSEADDR only where the port is meant to be shared: with it a second server that sets it too (another sidus
/// serve, dnsmasq) binds the same port on the same interface and both answer every client. Without it the kernel
/// refuses the second bind (EADDRINUSE) unless the two sockets are bound to different interfaces, which is what
/// serving two networks needs.</summary>
internal static class DhcpSocket
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private const int SoRcvBufForce = 33;

    /// <summary>The receive buffer asked for: a burst of requests (a rack powering on, a load test) waits here while
    /// the receive thread is descheduled or a collection runs, instead of being dropped.</summary>
    public const int ReceiveBuffer = 4 << 20;

    /// <param name="shared">Let another server that allows it hold the same port on the same interface (proxyDHCP's
    /// port 67 beside the site's DHCP server on one machine).</param>
    public static Socket Open(int port, string? interfaceName, bool shared = false)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (shared)
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.EnableBroadcast = true;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            SetReceiveBuffer(socket);
            if (interfaceName is not null)
            {
                var name = Encoding.ASCII.GetBytes(interfaceName + "\0");
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, name);
            }
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>SO_RCVBUF is silently capped at net.core.rmem_max (208 KiB on a stock Debian: a few hundred
    /// requests); SO_RCVBUFFORCE, which DHCP's root (CAP_NET_ADMIN) may use, is not. Without that capability the
    /// capped size is what there is.</summary>
    private static void SetReceiveBuffer(Socket socket)
    {
        Span<byte> size = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(size, ReceiveBuffer);
        try
        {
            socket.SetRawSocketOption(SolSocket, SoRcvBufForce, size);
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = ReceiveBuffer;
        }
    }
}
