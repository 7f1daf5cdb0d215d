namespace Sidus.Agent.Network;

/// <summary>What NBD_CMD_CONNECT tells the kernel (include/uapi/linux/nbd-netlink.h).</summary>
/// <param name="Index">The /dev/nbdN to use, or null to let the kernel pick a free one.</param>
/// <param name="TimeoutSeconds">Per-request timeout; 0 means wait forever (a root device must not time out under load).</param>
/// <param name="DeadConnectionSeconds">How long I/O waits for a reconnection (NBD_CMD_RECONFIGURE) once the socket dies.</param>
internal sealed record NbdConnectRequest(int? Index, ulong SizeBytes, ulong BlockSizeBytes, ulong TimeoutSeconds,
    ulong DeadConnectionSeconds, ulong ServerFlags, int SocketFd);

/// <summary>
/// The kernel's generic netlink "nbd" family: NBD_CMD_CONNECT hands a negotiated socket to the nbd driver, which
/// then serves /dev/nbdN by itself, so no user-space process has to stay behind (unlike the NBD_SET_SOCK +
/// NBD_DO_IT ioctls, whose caller blocks for the device's lifetime).
/// </summary>
internal static class NbdNetlink
{
    public const string FamilyName = "nbd";
    public const byte Version = 1;
    public const byte NBD_CMD_CONNECT = 1;
    public const byte NBD_CMD_DISCONNECT = 2;
    public const byte NBD_CMD_RECONFIGURE = 3;
    public const byte NBD_CMD_LINK_DEAD = 4;

    /// <summary>The family's multicast group: NBD_CMD_LINK_DEAD (with NBD_ATTR_INDEX) when a device's connection dies.</summary>
    public const string MulticastGroup = "nbd_mc_group";
    public const ushort NBD_ATTR_INDEX = 1;
    public const ushort NBD_ATTR_SIZE_BYTES = 2;
    public const ushort NBD_ATTR_BLOCK_SIZE_BYTES = 3;
    public const ushort NBD_ATTR_TIMEOUT = 4;
    public const ushort NBD_ATTR_SERVER_FLAGS = 5;
    public const ushort NBD_ATTR_SOCKETS = 7;
    public const ushort NBD_ATTR_DEAD_CONN_TIMEOUT = 8;
    public const ushort NBD_SOCK_ITEM = 1;
    public const ushort NBD_SOCK_FD = 1;
    private const int MaxRequestLength = 160;

    public static int EncodeConnect(ushort family, int sequence, NbdConnectRequest request, Span<byte> destination)
    {
        var writer = new NetlinkWriter(destination, family, NetlinkWriter.NLM_F_REQUEST | NetlinkWriter.NLM_F_ACK, sequence);
        writer.GenericHeader(NBD_CMD_CONNECT, Version);
        if (request.Index is { } index)
        {
            writer.U32(NBD_ATTR_INDEX, (uint)index);
        }

        writer.U64(NBD_ATTR_SIZE_BYTES, request.SizeBytes);
        writer.U64(NBD_ATTR_BLOCK_SIZE_BYTES, request.BlockSizeBytes);
        writer.U64(NBD_ATTR_TIMEOUT, request.TimeoutSeconds);
        writer.U64(NBD_ATTR_DEAD_CONN_TIMEOUT, request.DeadConnectionSeconds);
        writer.U64(NBD_ATTR_SERVER_FLAGS, request.ServerFlags);
        var sockets = writer.BeginNested(NBD_ATTR_SOCKETS);
        var item = writer.BeginNested(NBD_SOCK_ITEM);
        writer.U32(NBD_SOCK_FD, (uint)request.SocketFd);
        writer.EndNested(item);
        writer.EndNested(sockets);
        return writer.Finish();
    }

    /// <summary>
    /// NBD_CMD_RECONFIGURE for /dev/nbdINDEX with one socket: the kernel puts SOCKETFD in place of the device's dead
    /// connection, and the I/O waiting for it (up to the dead-connection timeout) goes on. Nothing else is changed.
    /// </summary>
    public static int EncodeReconfigure(ushort family, int sequence, int index, int socketFd, Span<byte> destination)
    {
        var writer = new NetlinkWriter(destination, family, NetlinkWriter.NLM_F_REQUEST | NetlinkWriter.NLM_F_ACK, sequence);
        writer.GenericHeader(NBD_CMD_RECONFIGURE, Version);
        writer.U32(NBD_ATTR_INDEX, (uint)index);
        var sockets = writer.BeginNested(NBD_ATTR_SOCKETS);
        var item = writer.BeginNested(NBD_SOCK_ITEM);
        writer.U32(NBD_SOCK_FD, (uint)socketFd);
        writer.EndNested(item);
        writer.EndNested(sockets);
        return writer.Finish();
    }

    /// <summary>NBD_CMD_DISCONNECT for /dev/nbdINDEX: the kernel tells the server and closes the connection.</summary>
    public static int EncodeDisconnect(ushort family, int sequence, int index, Span<byte> destination)
    {
        var writer = new NetlinkWriter(destination, family, NetlinkWriter.NLM_F_REQUEST | NetlinkWriter.NLM_F_ACK, sequence);
        writer.GenericHeader(NBD_CMD_DISCONNECT, Version);
        writer.U32(NBD_ATTR_INDEX, (uint)index);
        return writer.Finish();
    }

    /// <summary>Ends /dev/nbdINDEX's connection. A refusal throws <see cref="LinuxException"/>.</summary>
    public static void Disconnect(int index)
    {
        using var socket = NetlinkSocket.OpenGeneric();
        var family = GenericNetlink.ResolveFamily(socket, FamilyName);
        Span<byte> message = stackalloc byte[MaxRequestLength];
        var length = EncodeDisconnect(family, GenericNetlink.NextSequence(), index, message);
        GenericNetlink.Exchange(socket, message[..length], "NBD_CMD_DISCONNECT");
    }

    /// <summary>The device of an NBD_CMD_LINK_DEAD event (its payload after nlmsghdr), or null for any other message.</summary>
    public static int? DecodeLinkDead(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NetlinkWriter.GenericHeaderLength || payload[0] != NBD_CMD_LINK_DEAD)
        {
            return null;
        }

        return NetlinkReader.TryFindAttribute(payload[NetlinkWriter.GenericHeaderLength..], NBD_ATTR_INDEX, out var value) && value.Length >= 4
            ? (int)BinaryPrimitives.ReadUInt32LittleEndian(value)
            : null;
    }

    /// <summary>Hands SOCKETFD to /dev/nbdINDEX in place of its dead connection. A refusal throws <see cref="LinuxException"/>.</summary>
    public static void Reconfigure(int index, int socketFd)
    {
        using var socket = NetlinkSocket.OpenGeneric();
        var family = GenericNetlink.ResolveFamily(socket, FamilyName);
        Span<byte> message = stackalloc byte[MaxRequestLength];
        var length = EncodeReconfigure(family, GenericNetlink.NextSequence(), index, socketFd, message);
        GenericNetlink.Exchange(socket, message[..length], "NBD_CMD_RECONFIGURE");
    }

    /// <summary>The device index in the kernel's answer to NBD_CMD_CONNECT (its payload after nlmsghdr).</summary>
    public static int DecodeIndex(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NetlinkWriter.GenericHeaderLength ||
            !NetlinkReader.TryFindAttribute(payload[NetlinkWriter.GenericHeaderLength..], NBD_ATTR_INDEX, out var value) || value.Length < 4)
        {
            throw new InvalidDataException("the kernel's answer to NBD_CMD_CONNECT carries no NBD_ATTR_INDEX");
        }

        return (int)BinaryPrimitives.ReadUInt32LittleEndian(value);
    }

    /// <summary>Connects REQUEST's socket to a /dev/nbdN; returns N. A refusal throws <see cref="LinuxException"/>.</summary>
    public static int Connect(NbdConnectRequest request)
    {
        using var socket = NetlinkSocket.OpenGeneric();
        var family = GenericNetlink.ResolveFamily(socket, FamilyName);
        Span<byte> message = stackalloc byte[MaxRequestLength];
        var length = EncodeConnect(family, GenericNetlink.NextSequence(), request, message);
        var answer = GenericNetlink.Exchange(socket, message[..length], "NBD_CMD_CONNECT");
        return answer.Length > 0 ? DecodeIndex(answer) : request.Index ?? throw new InvalidDataException("the kernel acknowledged NBD_CMD_CONNECT without naming the device");
    }
}
