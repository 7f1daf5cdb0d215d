using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidus.Agent.Network;

/// <summary>
/// A minimal DHCP client: DISCOVER, OFFER, REQUEST, ACK over a UDP socket bound to the interface
/// (SO_BINDTODEVICE) with broadcast, retried with backoff until a lease comes or the time limit passes.
/// </summary>
internal static class DhcpClient
{
    private const int ClientPort = 68;
    private const int ServerPort = 67;
    private const int SOL_SOCKET = 1;
    private const int SO_BINDTODEVICE = 25;
    private static readonly TimeSpan ReplyWait = TimeSpan.FromSeconds(4);

    /// <summary>Gets a lease on INTERFACE; tries ATTEMPTS exchanges; null when none succeeded.</summary>
    public static async Task<DhcpLease?> AcquireAsync(string interfaceName, byte[] mac, int attempts)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.EnableBroadcast = true;
        socket.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(interfaceName + "\0"));
        socket.Bind(new IPEndPoint(IPAddress.Any, ClientPort));
        var backoff = new Backoff(1, 16);
        var buffer = new byte[1500];
        var target = new IPEndPoint(IPAddress.Broadcast, ServerPort);
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var xid = (uint)Random.Shared.Next();
            var length = DhcpPacket.Encode(buffer, DhcpPacket.Discover, xid, mac, null, null);
            await socket.SendToAsync(buffer.AsMemory(0, length), target);
            var offer = await WaitForAsync(socket, xid, mac, DhcpPacket.Offer);
            if (offer is null)
            {
                AgentConsole.Say($"DHCP: no offer on {interfaceName} (attempt {attempt}/{attempts})");
                await backoff.WaitAsync();
                continue;
            }

            length = DhcpPacket.Encode(buffer, DhcpPacket.Request, xid, mac, offer.Address, offer.ServerId);
            await socket.SendToAsync(buffer.AsMemory(0, length), target);
            var ack = await WaitForAsync(socket, xid, mac, DhcpPacket.Ack);
            if (ack is not null)
            {
                return ack;
            }

            AgentConsole.Say($"DHCP: {offer.ServerId} offered {offer.Address} but did not acknowledge (attempt {attempt}/{attempts})");
            await backoff.WaitAsync();
        }

        return null;
    }

    private static async Task<DhcpLease?> WaitForAsync(Socket socket, uint xid, byte[] mac, byte wanted)
    {
        var buffer = new byte[1500];
        using var timeout = new CancellationTokenSource(ReplyWait);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (DhcpPacket.TryDecode(buffer.AsSpan(0, n), xid, mac, out var type, out var lease))
                {
                    if (type == DhcpPacket.Nak)
                    {
                        AgentConsole.Say("DHCP: the server said NAK");
                        return null;
                    }

                    if (type == wanted)
                    {
                        return lease;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
