using System.Net.NetworkInformation;

namespace Sidus.Wire.Ipv6;

/// <summary>
/// Answers IPv6 router solicitations on the boot network with an advertisement that configures nothing (router
/// lifetime 0, no prefix, no flags). iPXE configures every protocol it knows before it boots and, on a network without
/// an IPv6 router, spends about 16 s soliciting one; this answer ends that wait at once and changes nothing for hosts
/// (a lifetime-0 router is never a default route). Run only where Sidus owns the network (full DHCP mode).
/// </summary>
public sealed class NoRouterAdvertiser : IAsyncDisposable
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private const int IpprotoIpv6 = 41;
    private const int Ipv6UnicastHops = 16;
    private const int Ipv6MulticastHops = 18;

    /// <summary>Hop limit 255 on every router discovery message: receivers drop anything else (RFC 4861 6.1.2).</summary>
    private const int RouterDiscoveryHopLimit = 255;

    /// <summary>RFC 4861 10: at most one solicited advertisement per MIN_DELAY_BETWEEN_RAS (3 s) is the rule for
    /// routers; a burst of booting nodes shares one answer.</summary>
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);

    private static readonly IPAddress AllRouters = IPAddress.Parse("ff02::2");
    private static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    private readonly string _interfaceName;
    private readonly ILogger _logger;
    private readonly byte[] _advertisement = RouterAdvertisement.NothingToConfigure();
    private Socket? _socket;
    private int _interfaceIndex;
    private DateTime _lastSent = DateTime.MinValue;

    public NoRouterAdvertiser(string interfaceName, ILogger logger)
    {
        _interfaceName = interfaceName;
        _logger = logger;
    }

    /// <summary>Advertisements sent so far.</summary>
    public int Sent { get; private set; }

    /// <summary>Opens the raw ICMPv6 socket on the interface (needs root); call inside the interface's namespace.</summary>
    public void Bind()
    {
        _interfaceIndex = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == _interfaceName)?.GetIPProperties().GetIPv6Properties()?.Index
            ?? throw new InvalidOperationException($"interface {_interfaceName} has no IPv6: router solicitations cannot be answered there");
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
        try
        {
            socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(_interfaceName + "\0"));
            socket.SetRawSocketOption(IpprotoIpv6, Ipv6UnicastHops, BitConverter.GetBytes(RouterDiscoveryHopLimit));
            socket.SetRawSocketOption(IpprotoIpv6, Ipv6MulticastHops, BitConverter.GetBytes(RouterDiscoveryHopLimit));
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, false);
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(AllRouters, _interfaceIndex));
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            _socket = socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task RunAsync(CancellationToken cancellation)
    {
        var socket = _socket ?? throw new InvalidOperationException("Bind first.");
        var buffer = new byte[1500];
        var allNodes = new IPEndPoint(new IPAddress(AllNodes.GetAddressBytes(), _interfaceIndex), 0);
        _logger.LogInformation("IPv6: answering router solicitations on {Interface} with 'no router here' (ends iPXE's IPv6 wait)", _interfaceName);
        while (!cancellation.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), cancellation);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!RouterAdvertisement.IsSolicitation(buffer.AsSpan(0, received.ReceivedBytes)) || DateTime.UtcNow - _lastSent < MinimumInterval)
            {
                continue;
            }

            try
            {
                await socket.SendToAsync(_advertisement, SocketFlags.None, allNodes, cancellation);
            }
            catch (SocketException e)
            {
                // Typically our own link-local address still in duplicate address detection: the next solicitation
                // (hosts repeat them) is answered.
                _logger.LogDebug("IPv6: cannot answer a router solicitation on {Interface} yet: {Reason}", _interfaceName, e.Message);
                continue;
            }

            _lastSent = DateTime.UtcNow;
            Sent++;
            _logger.LogDebug("IPv6: router solicitation from {Source} answered on {Interface}", received.RemoteEndPoint, _interfaceName);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        return ValueTask.CompletedTask;
    }
}
