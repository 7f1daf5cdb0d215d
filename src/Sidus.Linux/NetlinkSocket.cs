namespace Sidus.Linux;

/// <summary>
/// A netlink socket (NETLINK_ROUTE or NETLINK_GENERIC): send a request, read the kernel's answers. Message encoding
/// is the caller's.
/// </summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    private const int AF_NETLINK = 16;
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int NETLINK_ROUTE = 0;
    private const int NETLINK_GENERIC = 16;
    private const int SockaddrNlLength = 12;
    private const int SOL_NETLINK = 270;
    private const int NETLINK_ADD_MEMBERSHIP = 1;
    private const int PollFdLength = 8;
    private const short POLLIN = 1;
    private int _fd;

    private NetlinkSocket(int fd) => _fd = fd;

    public static NetlinkSocket OpenRoute() => Open(NETLINK_ROUTE);

    /// <summary>A generic netlink socket (families such as "nbd" are resolved through its controller).</summary>
    public static NetlinkSocket OpenGeneric() => Open(NETLINK_GENERIC);

    private static NetlinkSocket Open(int protocol)
    {
        var fd = Libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            throw LinuxException.FromLastError("socket(AF_NETLINK)");
        }

        // sockaddr_nl: family, pad, pid 0 (kernel assigns), groups 0.
        var address = stackalloc byte[SockaddrNlLength];
        new Span<byte>(address, SockaddrNlLength).Clear();
        address[0] = AF_NETLINK;
        if (Libc.bind(fd, address, SockaddrNlLength) != 0)
        {
            var error = LinuxException.FromLastError("bind(AF_NETLINK)");
            Libc.close(fd);
            throw error;
        }

        return new NetlinkSocket(fd);
    }

    public void Send(ReadOnlySpan<byte> message)
    {
        fixed (byte* p = message)
        {
            if (Libc.send(_fd, p, (nuint)message.Length, 0) != message.Length)
            {
                throw LinuxException.FromLastError("send(netlink)");
            }
        }
    }

    public int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var n = Libc.recv(_fd, p, (nuint)buffer.Length, 0);
            if (n < 0)
            {
                throw LinuxException.FromLastError("recv(netlink)");
            }

            return (int)n;
        }
    }

    /// <summary>Joins multicast GROUP (a generic netlink family's group id): its events arrive with <see cref="Receive(Span{byte}, int)"/>.</summary>
    public void JoinGroup(uint group)
    {
        if (Libc.setsockopt(_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, (byte*)&group, sizeof(uint)) != 0)
        {
            throw LinuxException.FromLastError("setsockopt(NETLINK_ADD_MEMBERSHIP)");
        }
    }

    /// <summary>The next datagram, waiting at most TIMEOUTMILLISECONDS; 0 when none came in time (or a signal interrupted the wait).</summary>
    public int Receive(Span<byte> buffer, int timeoutMilliseconds)
    {
        var pollfd = stackalloc byte[PollFdLength];
        new Span<byte>(pollfd, PollFdLength).Clear();
        *(int*)pollfd = _fd;
        *(short*)(pollfd + 4) = POLLIN;
        var ready = Libc.poll(pollfd, 1, timeoutMilliseconds);
        if (ready < 0)
        {
            var error = LinuxException.FromLastError("poll(netlink)");
            return error.Errno == Errno.EINTR ? 0 : throw error;
        }

        return ready == 0 ? 0 : Receive(buffer);
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.close(_fd);
            _fd = -1;
        }
    }
}
