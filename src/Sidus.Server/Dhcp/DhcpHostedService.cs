using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Boot.Dhcp;
using Sidus.Server.Configuration;

namespace Sidus.Server.Dhcp;

/// <summary>Runs one interface's DHCP server; its sockets are bound when the host starts, so problems show at startup.</summary>
internal sealed class DhcpHostedService(DhcpServer server, ILogger logger) : IHostedService, IAsyncDisposable
{
    private CancellationTokenSource? _stop;
    private Task? _running;

    public DhcpServer Server => server;

    public Task StartAsync(CancellationToken cancellationToken)
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

        _stop = new CancellationTokenSource();
        _running = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null || _running is null)
        {
            return;
        }

        await _stop.CancelAsync();
        await _running.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        _stop?.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await server.RunAsync(ct);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, $"DHCP on {server.Options.InterfaceName}", e.Message);
        }
    }
}
