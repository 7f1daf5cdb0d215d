namespace Sidus.Wire.Dhcp;

/// <summary>Opens the UDP sockets a DHCP server needs: bound to one interface (SO_BINDTODEVICE, so broadcasts leave
/// through it and only its traffic arrives), broadcast allowed, arrival interface reported (IP_PKTINFO).</summary>
internal static class DhcpSocket
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;

    public static Socket Open(int port, string? interfaceName)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.EnableBroadcast = true;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            // Bursts of DISCOVERs must not overflow the default receive buffer while a batch is being fsynced.
            socket.ReceiveBufferSize = 4 << 20;
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
}
