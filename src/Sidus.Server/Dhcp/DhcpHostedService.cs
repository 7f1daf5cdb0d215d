using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Dhcp;
using Sidus.Server.Configuration;

namespace Sidus.Server.Dhcp;

/// <summary>Runs one interface's DHCP server; its sockets are bound when the host starts, so problems show at startup.</summary>
internal sealed class DhcpHostedService(DhcpServer server, ILogger logger) : BackgroundService, IAsyncDisposable
{
    public DhcpServer Server => server;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var options = server.Options;
        try
        {
            server.Bind();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ServeConfigException(
                $"DHCP port {options.ServerPort} or {options.BootServerPort} on {options.InterfaceName} is already in use (isc-dhcp-server, dnsmasq, kea?): stop that service, or run Sidus with --dhcp off", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ServeConfigException(
                $"DHCP needs root (ports {options.ServerPort} and {options.BootServerPort}, and binding to {options.InterfaceName}): run sidus serve as root", e);
        }

        return base.StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await server.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, $"DHCP on {server.Options.InterfaceName}", e.Message);
        }
    }
}
