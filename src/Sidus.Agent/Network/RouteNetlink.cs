namespace Sidus.Agent.Network;

/// <summary>
/// The rtnetlink requests the agent needs: link up (RTM_NEWLINK), add an IPv4 address (RTM_NEWADDR) and a default
/// route (RTM_NEWROUTE). Each request asks for an acknowledgement and throws with the kernel's errno on refusal.
/// </summary>
internal static class RouteNetlink
{
    private const int HeaderLength = 16;
    private const int RtattrHeaderLength = 4;
    private const ushort NLMSG_ERROR = 2;
    private const ushort RTM_NEWLINK = 16;
    private const ushort RTM_NEWADDR = 20;
    private const ushort RTM_NEWROUTE = 24;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLM_F_ACK = 0x4;
    private const ushort NLM_F_REPLACE = 0x100;
    private const ushort NLM_F_CREATE = 0x400;
    private const byte AF_INET = 2;
    private const uint IFF_UP = 0x1;
    private const ushort IFA_ADDRESS = 1;
    private const ushort IFA_LOCAL = 2;
    private const ushort IFA_BROADCAST = 4;
    private const ushort RTA_OIF = 4;
    private const ushort RTA_GATEWAY = 5;
    private const byte RT_TABLE_MAIN = 254;
    private const byte RTPROT_DHCP = 16;
    private const byte RT_SCOPE_UNIVERSE = 0;
    private const byte RTN_UNICAST = 1;
    private static int _sequence;

    public static void SetLinkUp(int index)
    {
        Span<byte> m = stackalloc byte[HeaderLength + 16];
        m.Clear();
        m[HeaderLength] = 0; // AF_UNSPEC
        BinaryPrimitives.WriteInt32LittleEndian(m[(HeaderLength + 4)..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(m[(HeaderLength + 8)..], IFF_UP);
        BinaryPrimitives.WriteUInt32LittleEndian(m[(HeaderLength + 12)..], IFF_UP);
        Request(m, RTM_NEWLINK, 0, "link up");
    }

    public static void AddAddress(int index, IPAddress address, int prefixLength)
    {
        Span<byte> m = stackalloc byte[HeaderLength + 8 + (3 * 8)];
        m.Clear();
        m[HeaderLength] = AF_INET;
        m[HeaderLength + 1] = (byte)prefixLength;
        BinaryPrimitives.WriteInt32LittleEndian(m[(HeaderLength + 4)..], index);
        var at = HeaderLength + 8;
        at += Attribute(m[at..], IFA_LOCAL, address);
        at += Attribute(m[at..], IFA_ADDRESS, address);
        at += Attribute(m[at..], IFA_BROADCAST, Broadcast(address, prefixLength));
        Request(m[..at], RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, $"address {address}/{prefixLength}");
    }

    public static void AddDefaultRoute(int index, IPAddress gateway)
    {
        Span<byte> m = stackalloc byte[HeaderLength + 12 + (2 * 8)];
        m.Clear();
        m[HeaderLength] = AF_INET;
        m[HeaderLength + 4] = RT_TABLE_MAIN;
        m[HeaderLength + 5] = RTPROT_DHCP;
        m[HeaderLength + 6] = RT_SCOPE_UNIVERSE;
        m[HeaderLength + 7] = RTN_UNICAST;
        var at = HeaderLength + 12;
        at += Attribute(m[at..], RTA_GATEWAY, gateway);
        BinaryPrimitives.WriteUInt16LittleEndian(m[at..], RtattrHeaderLength + 4);
        BinaryPrimitives.WriteUInt16LittleEndian(m[(at + 2)..], RTA_OIF);
        BinaryPrimitives.WriteInt32LittleEndian(m[(at + 4)..], index);
        at += 8;
        Request(m[..at], RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, $"default route via {gateway}");
    }

    private static int Attribute(Span<byte> destination, ushort type, IPAddress address)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, RtattrHeaderLength + 4);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], type);
        address.TryWriteBytes(destination[4..], out _);
        return RtattrHeaderLength + 4;
    }

    private static IPAddress Broadcast(IPAddress address, int prefixLength)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var mask = prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value | ~mask);
        return new IPAddress(b);
    }

    private static void Request(Span<byte> message, ushort type, ushort flags, string what)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], (ushort)(NLM_F_REQUEST | NLM_F_ACK | flags));
        BinaryPrimitives.WriteInt32LittleEndian(message[8..], sequence);
        using var socket = NetlinkSocket.OpenRoute();
        socket.Send(message);
        Span<byte> reply = stackalloc byte[4096];
        var n = socket.Receive(reply);
        if (n < HeaderLength + 4 || BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]) != NLMSG_ERROR)
        {
            throw new IOException($"netlink {what}: unexpected answer ({n} bytes)");
        }

        var error = BinaryPrimitives.ReadInt32LittleEndian(reply[HeaderLength..]);
        if (error != 0)
        {
            throw new LinuxException(-error, "netlink " + what, null);
        }
    }
}
