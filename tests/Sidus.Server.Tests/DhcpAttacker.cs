using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Security.Cryptography;
using Sidus.Testing;
using Sidus.Wire.Dhcp;

namespace Sidus.Server.Tests;

/// <summary>
/// A hostile machine on the boot network: a root shell in its own namespace on the lab's bridge, sending DHCP
/// packets of its own making from a UDP socket (any chaddr it likes; its Ethernet MAC stays its own) and reading the
/// server's broadcast replies. Its sockets are created inside its namespace, so it can only ever reach the lab.
/// </summary>
internal sealed class DhcpAttacker : IDisposable
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private static readonly TimeSpan ReplyWait = TimeSpan.FromSeconds(2);
    private static readonly IPEndPoint Server = new(IPAddress.Broadcast, DhcpConstants.ServerPort);

    private readonly NetworkNamespace _ns;
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[DhcpConstants.MaxPacketSize];
    private uint _xid = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));

    /// <param name="ns">The attacker's namespace, its interface <see cref="DhcpClients.Interface"/> addressed.</param>
    public DhcpAttacker(NetworkNamespace ns)
    {
        _ns = ns;
        _socket = ns.Invoke(() => Open(IPAddress.Any));
    }

    /// <summary>A random locally administered unicast MAC.</summary>
    public static string RandomMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(6);
        bytes[0] = (byte)((bytes[0] & 0xFC) | 0x02);
        return string.Join(':', bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }

    /// <summary>A client request with chaddr <paramref name="mac"/> and a fresh xid.</summary>
    public DhcpPacket Packet(DhcpMessageType type, string mac, Action<DhcpPacket>? configure = null)
    {
        var packet = new DhcpPacket { Xid = ++_xid, Flags = DhcpConstants.BroadcastFlag };
        Convert.FromHexString(mac.Replace(":", "", StringComparison.Ordinal)).CopyTo(packet.Chaddr, 0);
        packet.Options.SetByte(DhcpOptionCode.MessageType, (byte)type);
        configure?.Invoke(packet);
        return packet;
    }

    /// <summary>Broadcasts <paramref name="packet"/> to port 67.</summary>
    public void Broadcast(DhcpPacket packet)
    {
        var length = packet.Encode(_buffer);
        _socket.SendTo(_buffer.AsSpan(0, length), SocketFlags.None, Server);
    }

    /// <summary>Sends <paramref name="packet"/> to <paramref name="server"/>:67 from <paramref name="source"/>:68, an
    /// address the attacker puts on its own interface for the purpose (as any root on the network can).</summary>
    public void SendFrom(IPAddress source, IPAddress server, DhcpPacket packet)
    {
        _ns.Ip("addr", "add", source + "/32", "dev", DhcpClients.Interface);
        try
        {
            var length = packet.Encode(_buffer);
            var bytes = _buffer.AsSpan(0, length).ToArray();
            _ns.Invoke(() =>
            {
                using var socket = Open(source);
                socket.SendTo(bytes, new IPEndPoint(server, DhcpConstants.ServerPort));
            });
        }
        finally
        {
            _ns.Ip("addr", "del", source + "/32", "dev", DhcpClients.Interface);
        }
    }

    /// <summary>DISCOVER, then REQUEST of what was offered, as chaddr <paramref name="mac"/>: the address ACKed,
    /// or null when the server offered or acknowledged nothing.</summary>
    public Ip4? Lease(string mac)
    {
        var discover = Packet(DhcpMessageType.Discover, mac);
        Broadcast(discover);
        if (Reply(discover.Xid) is not { MessageType: DhcpMessageType.Offer } offer)
            return null;
        var request = Packet(DhcpMessageType.Request, mac, p =>
        {
            p.Options.SetAddress(DhcpOptionCode.ServerIdentifier, offer.Options.GetAddress(DhcpOptionCode.ServerIdentifier)!.Value);
            p.Options.SetAddress(DhcpOptionCode.RequestedIpAddress, offer.Yiaddr);
        });
        Broadcast(request);
        return Reply(request.Xid) is { MessageType: DhcpMessageType.Ack } ack ? ack.Yiaddr : null;
    }

    /// <summary>Broadcasts <paramref name="packet"/>; the server's reply, or null when it sends none.</summary>
    public DhcpPacket? Exchange(DhcpPacket packet)
    {
        Broadcast(packet);
        return Reply(packet.Xid);
    }

    /// <summary>The server's reply with <paramref name="xid"/>, or null after <see cref="ReplyWait"/>.</summary>
    private DhcpPacket? Reply(uint xid)
    {
        var until = DateTime.UtcNow + ReplyWait;
        while (DateTime.UtcNow < until)
        {
            _socket.ReceiveTimeout = Math.Max(1, (int)(until - DateTime.UtcNow).TotalMilliseconds);
            int length;
            try
            {
                length = _socket.Receive(_buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                return null;
            }
            if (DhcpPacket.TryDecode(_buffer.AsSpan(0, length), out var packet, out _) && packet.Op == DhcpConstants.OpBootReply && packet.Xid == xid)
                return packet;
        }
        return null;
    }

    private static Socket Open(IPAddress local)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.EnableBroadcast = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(DhcpClients.Interface + "\0"));
        socket.Bind(new IPEndPoint(local, DhcpConstants.ClientPort));
        return socket;
    }

    public void Dispose() => _socket.Dispose();
}
