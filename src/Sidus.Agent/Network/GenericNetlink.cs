namespace Sidus.Agent.Network;

/// <summary>
/// Generic netlink: resolving a family's id by name through the controller (CTRL_CMD_GETFAMILY), and one
/// request/answer exchange that ends with the kernel's acknowledgement (an errno refusal throws).
/// </summary>
internal static class GenericNetlink
{
    public const ushort GENL_ID_CTRL = 0x10;
    public const byte CTRL_CMD_NEWFAMILY = 1;
    public const byte CTRL_CMD_GETFAMILY = 3;
    public const byte CtrlVersion = 1;
    public const ushort CTRL_ATTR_FAMILY_ID = 1;
    public const ushort CTRL_ATTR_FAMILY_NAME = 2;
    public const ushort CTRL_ATTR_MCAST_GROUPS = 7;
    public const ushort CTRL_ATTR_MCAST_GRP_NAME = 1;
    public const ushort CTRL_ATTR_MCAST_GRP_ID = 2;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLMSG_DONE = 3;
    private const int ReceiveBufferLength = 32 * 1024;
    private const int MaxDatagrams = 16;
    private static int _sequence;

    public static int NextSequence() => Interlocked.Increment(ref _sequence);

    public static int EncodeGetFamily(string name, int sequence, Span<byte> destination)
    {
        var writer = new NetlinkWriter(destination, GENL_ID_CTRL, NetlinkWriter.NLM_F_REQUEST | NetlinkWriter.NLM_F_ACK, sequence);
        writer.GenericHeader(CTRL_CMD_GETFAMILY, CtrlVersion);
        writer.String(CTRL_ATTR_FAMILY_NAME, name);
        return writer.Finish();
    }

    /// <summary>The family id in the controller's CTRL_CMD_NEWFAMILY answer (its payload after nlmsghdr).</summary>
    public static ushort DecodeFamilyId(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NetlinkWriter.GenericHeaderLength || payload[0] != CTRL_CMD_NEWFAMILY)
        {
            throw new InvalidDataException("the generic netlink controller's answer is not CTRL_CMD_NEWFAMILY");
        }

        if (!NetlinkReader.TryFindAttribute(payload[NetlinkWriter.GenericHeaderLength..], CTRL_ATTR_FAMILY_ID, out var id) || id.Length < 2)
        {
            throw new InvalidDataException("the generic netlink controller's answer has no CTRL_ATTR_FAMILY_ID");
        }

        return BinaryPrimitives.ReadUInt16LittleEndian(id);
    }

    /// <summary>The id of generic netlink family NAME; ENOENT (as <see cref="LinuxException"/>) when the kernel has none.</summary>
    public static ushort ResolveFamily(NetlinkSocket socket, string name)
    {
        Span<byte> request = stackalloc byte[64];
        var length = EncodeGetFamily(name, NextSequence(), request);
        var answer = Exchange(socket, request[..length], $"resolving generic netlink family '{name}'");
        return DecodeFamilyId(answer);
    }

    /// <summary>
    /// The id of multicast group GROUP in the controller's CTRL_CMD_NEWFAMILY answer: CTRL_ATTR_MCAST_GROUPS nests one
    /// attribute per group, each with CTRL_ATTR_MCAST_GRP_NAME and CTRL_ATTR_MCAST_GRP_ID. Null when the family has none of that name.
    /// </summary>
    public static uint? DecodeGroupId(ReadOnlySpan<byte> payload, string group)
    {
        if (payload.Length < NetlinkWriter.GenericHeaderLength || payload[0] != CTRL_CMD_NEWFAMILY)
        {
            throw new InvalidDataException("the generic netlink controller's answer is not CTRL_CMD_NEWFAMILY");
        }

        if (!NetlinkReader.TryFindAttribute(payload[NetlinkWriter.GenericHeaderLength..], CTRL_ATTR_MCAST_GROUPS, out var groups))
        {
            return null;
        }

        var wanted = System.Text.Encoding.UTF8.GetBytes(group + "\0");
        while (groups.Length >= NetlinkWriter.AttributeHeaderLength)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(groups);
            if (length < NetlinkWriter.AttributeHeaderLength || length > groups.Length)
            {
                throw new InvalidDataException($"a multicast group attribute claims {length} bytes of {groups.Length}");
            }

            var entry = groups[NetlinkWriter.AttributeHeaderLength..length];
            if (NetlinkReader.TryFindAttribute(entry, CTRL_ATTR_MCAST_GRP_NAME, out var name) && name.SequenceEqual(wanted) &&
                NetlinkReader.TryFindAttribute(entry, CTRL_ATTR_MCAST_GRP_ID, out var id) && id.Length >= 4)
            {
                return BinaryPrimitives.ReadUInt32LittleEndian(id);
            }

            groups = groups[Math.Min(groups.Length, NetlinkWriter.Align(length))..];
        }

        return null;
    }

    /// <summary>The family id and the id of its multicast group GROUP (null when it has none of that name).</summary>
    public static (ushort Family, uint? Group) ResolveGroup(NetlinkSocket socket, string family, string group)
    {
        Span<byte> request = stackalloc byte[64];
        var length = EncodeGetFamily(family, NextSequence(), request);
        var answer = Exchange(socket, request[..length], $"resolving generic netlink family '{family}'");
        return (DecodeFamilyId(answer), DecodeGroupId(answer, group));
    }

    /// <summary>Sends REQUEST; returns the payload of the answer carrying its sequence number (empty when there is none).</summary>
    public static byte[] Exchange(NetlinkSocket socket, ReadOnlySpan<byte> request, string what)
    {
        var sequence = BinaryPrimitives.ReadInt32LittleEndian(request[8..]);
        socket.Send(request);
        var buffer = new byte[ReceiveBufferLength];
        byte[] answer = [];
        for (var i = 0; i < MaxDatagrams; i++)
        {
            var n = socket.Receive(buffer);
            ReadOnlySpan<byte> datagram = buffer.AsSpan(0, n);
            while (NetlinkReader.TryReadMessage(datagram, out var type, out var seq, out var payload, out var consumed))
            {
                datagram = datagram[consumed..];
                if (seq != sequence)
                {
                    continue;
                }

                if (type == NLMSG_ERROR)
                {
                    var error = payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : -Errno.EIO;
                    return error == 0 ? answer : throw new LinuxException(-error, what, null);
                }

                if (type == NLMSG_DONE)
                {
                    return answer;
                }

                answer = payload.ToArray();
            }
        }

        throw new IOException($"{what}: no acknowledgement from the kernel after {MaxDatagrams} answers");
    }
}
