namespace Sidus.Wire.Dhcp;

/// <summary>Opens the UDP sockets a DHCP server needs: bound to one interface (SO_BINDTODEVICE, so broadcasts leave
/// through it and only its traffic arrives), broadcast allowed, arrival interface reported (IP_PKTINFO).
/// Never SO_REUSEADDR: with it a second server (another sidus serve, dnsmasq, whoever set it too) binds the same
/// port on the same interface and both answer every client. Without it the kernel refuses the second bind
/// (EADDRINUSE) unless the two sockets are bound to different interfaces, which is what serving two networks needs.</summary>
internal static class DhcpSocket
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;

    public static Socket Open(int port, string? interfaceName)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
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
