using Sidus.Linux;
using Sidus.Server.Hosting;
using Sidus.Wire.Dhcp;

namespace Sidus.Server.Dhcp;

/// <summary>One interface's DHCP server (full or proxy, ports 67 and 4011).</summary>
public sealed class DhcpListener(DhcpServer server) : IBootListener
{
    public string Name => $"DHCP on {server.Options.InterfaceName}";

    public bool Essential => true;

    public void Bind()
    {
        var options = server.Options;
        var where = options.InterfaceName ?? "every interface";
        try
        {
            server.Bind();
        }
        catch (DhcpBindException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            var holder = PortHolders.Describe(ProtocolType.Udp, e.Port) ?? "a process this user cannot see (isc-dhcp-server, dnsmasq, kea, another sidus serve?)";
            throw new ServeConfigException(
                $"UDP port {e.Port} on {where} is already held by {holder}: stop it first, or run Sidus with --dhcp off on {where}", e);
        }
        catch (DhcpBindException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ServeConfigException(
                $"DHCP needs root (ports {options.ServerPort} and {options.BootServerPort}, and binding to {where}): run sidus serve as root", e);
        }
    }

    public Task RunAsync(CancellationToken stopping) => server.RunAsync(stopping);

    /// <summary>The interface this server answers on.</summary>
    public string InterfaceName => server.Options.InterfaceName ?? string.Empty;

    /// <summary>New pools, router, DNS, domain or lease time, applied live (a reload); leases and sockets are kept.</summary>
    public void Reconfigure(DhcpServerOptions options) => server.Reconfigure(options);

    /// <summary>Packets received, dropped and answered since the start.</summary>
    public DhcpServerStatistics Statistics => server.Statistics;

    public string Describe() =>
        $"dhcp {server.Options.Mode.ToString().ToLowerInvariant()} on {server.Options.InterfaceName} as {server.Options.ServerAddress}: {server.Statistics}";

    /// <summary>The address this server has bound to MAC, or null.</summary>
    public IPAddress? LeasedAddress(MacAddress mac) => server.Leases
        .FirstOrDefault(l => l.State == DhcpLeaseState.Bound && MacAddress.TryParse(l.Mac, out var m) && m == mac)?.Address.ToIPAddress();

    public ValueTask DisposeAsync() => server.DisposeAsync();
}
