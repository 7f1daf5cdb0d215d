using Sidus.Linux;
using Sidus.Testing;
using Sidus.Wire.Dhcp;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>One DHCP server per interface: a second bind on the same interface fails (no SO_REUSEADDR) and the
/// holder of the port can be named; another interface stays free to serve.</summary>
[Collection(NetworkTests.Name)]
public sealed class DhcpBindTests : IDisposable
{
    private readonly DhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void SecondServer_SameInterface_FailsToBindAndThisProcessIsNamedHolder()
    {
        _lab.StartServer(_lab.DefaultOptions());
        using var second = new DhcpServer(_lab.DefaultOptions() with { LeaseFile = null }, new StaticDhcpNodeSource());

        var failure = Assert.Throws<InvalidOperationException>(() => _lab.ServerNs.Invoke(second.Bind));
        var bind = Assert.IsType<DhcpBindException>(failure.InnerException);
        var holders = _lab.ServerNs.Invoke(() => PortHolders.Find(System.Net.Sockets.ProtocolType.Udp, DhcpConstants.ServerPort));

        Assert.Equal((DhcpConstants.ServerPort, System.Net.Sockets.SocketError.AddressAlreadyInUse), (bind.Port, bind.SocketErrorCode));
        Assert.Equal(Environment.ProcessId, Assert.Single(holders).Pid);
    }

    [Fact]
    public void SecondProxy_SameInterface_SharesPort67ButNot4011()
    {
        _lab.StartServer(_lab.DefaultOptions(DhcpMode.Proxy));
        using var second = new DhcpServer(_lab.DefaultOptions(DhcpMode.Proxy), new StaticDhcpNodeSource());

        var failure = Assert.Throws<InvalidOperationException>(() => _lab.ServerNs.Invoke(second.Bind));

        Assert.Equal(DhcpConstants.PxeBootServerPort, Assert.IsType<DhcpBindException>(failure.InnerException).Port);
    }

    [Fact]
    public void FullServer_BesideAProxyOnTheSameInterface_FailsToBind()
    {
        _lab.StartServer(_lab.DefaultOptions(DhcpMode.Proxy));
        using var full = new DhcpServer(_lab.DefaultOptions() with { LeaseFile = null }, new StaticDhcpNodeSource());

        var failure = Assert.Throws<InvalidOperationException>(() => _lab.ServerNs.Invoke(full.Bind));

        Assert.Equal(DhcpConstants.ServerPort, Assert.IsType<DhcpBindException>(failure.InnerException).Port);
    }

    [Fact]
    public void SecondServer_AnotherInterface_Binds()
    {
        _lab.ServerNs.AddBridge("br1", "10.77.1.1/24");
        _lab.StartServer(_lab.DefaultOptions());
        using var other = new DhcpServer(_lab.DefaultOptions() with
        {
            InterfaceName = "br1",
            ServerAddress = Ip4.Parse("10.77.1.1"),
            Pools = [DhcpPool.Parse("10.77.1.100-10.77.1.150")],
            LeaseFile = null,
        }, new StaticDhcpNodeSource());

        _lab.ServerNs.Invoke(other.Bind);
    }

    [Fact]
    public void Socket_ReceiveBuffer_IsTheSizeAskedForWhateverRmemMax()
    {
        // As root (as DHCP runs) SO_RCVBUFFORCE passes net.core.rmem_max; the kernel reports twice the size asked.
        using var socket = _lab.ServerNs.Invoke(() => DhcpSocket.Open(0, DhcpLab.Bridge));

        Assert.True(socket.ReceiveBufferSize >= DhcpSocket.ReceiveBuffer, $"receive buffer {socket.ReceiveBufferSize}");
    }

    [Fact]
    public void SocketInodes_ReadsBoundSocketsOfAPortFromAProcTable()
    {
        const string Table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
              153: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41230 2 0000000000000000 0
              154: 0100000A:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41231 2 0000000000000000 0
              155: 00000000:0FAB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41232 2 0000000000000000 0
              156: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 0000000000000000 0
            """;

        Assert.Equal([41230L, 41231L], PortHolders.SocketInodes(Table, 67, listenersOnly: false));
        Assert.Equal([41232L], PortHolders.SocketInodes(Table, 4011, listenersOnly: false));
        Assert.Empty(PortHolders.SocketInodes(Table, 67, listenersOnly: true));
    }
}
