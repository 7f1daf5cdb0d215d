using Sidus.Wire.Dhcp;

namespace Sidus.Agent.Network;

/// <summary>
/// A minimal DHCP client: DISCOVER, OFFER, REQUEST, ACK over a UDP socket bound to the interface
/// (SO_BINDTODEVICE) with broadcast, retried with backoff until a lease comes or the time limit passes.
/// </summary>
internal static class DhcpClient
{
    private const int SOL_SOCKET = 1;
    private const int SO_BINDTODEVICE = 25;
    private static readonly TimeSpan ReplyWait = TimeSpan.FromSeconds(4);

    /// <summary>Gets a lease on INTERFACE; tries ATTEMPTS exchanges; null when none succeeded.</summary>
    public static async Task<AcquiredLease?> AcquireAsync(string interfaceName, byte[] mac, int attempts)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.EnableBroadcast = true;
        socket.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(interfaceName + "\0"));
        socket.Bind(new IPEndPoint(IPAddress.Any, DhcpConstants.ClientPort));
        var backoff = new Backoff(1, 16);
        var buffer = new byte[DhcpConstants.MaxPacketSize];
        var target = new IPEndPoint(IPAddress.Broadcast, DhcpConstants.ServerPort);
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var xid = (uint)Random.Shared.Next();
            var length = DhcpClientMessages.Create(DhcpMessageType.Discover, xid, mac, null, null).Encode(buffer);
            await socket.SendToAsync(buffer.AsMemory(0, length), target);
            var offer = await WaitForAsync(socket, xid, mac, DhcpMessageType.Offer);
            if (offer is null)
            {
                AgentConsole.Say($"DHCP: no offer on {interfaceName} (attempt {attempt}/{attempts})");
                await backoff.WaitAsync();
                continue;
            }

            length = DhcpClientMessages.Create(DhcpMessageType.Request, xid, mac, offer.Address, offer.ServerId).Encode(buffer);
            await socket.SendToAsync(buffer.AsMemory(0, length), target);
            var ack = await WaitForAsync(socket, xid, mac, DhcpMessageType.Ack);
            if (ack is not null)
            {
                return ack;
            }

            AgentConsole.Say($"DHCP: {offer.ServerId} offered {offer.Address} but did not acknowledge (attempt {attempt}/{attempts})");
            await backoff.WaitAsync();
        }

        return null;
    }

    private static async Task<AcquiredLease?> WaitForAsync(Socket socket, uint xid, byte[] mac, DhcpMessageType wanted)
    {
        var buffer = new byte[DhcpConstants.MaxPacketSize];
        using var timeout = new CancellationTokenSource(ReplyWait);
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (DhcpClientMessages.TryRead(buffer.AsSpan(0, n), xid, mac, out var type, out var lease))
                {
                    if (type == DhcpMessageType.Nak)
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
