using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Ipv6;

namespace Sidus.Server.Dhcp;

/// <summary>
/// Runs <see cref="NoRouterAdvertiser"/> on a full-DHCP interface. It only shortens iPXE's boot, so a failure to
/// start it is logged and the server goes on without it.
/// </summary>
internal sealed class NoRouterHostedService(NoRouterAdvertiser advertiser, string interfaceName, ILogger logger) : BackgroundService, IAsyncDisposable
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            advertiser.Bind();
            await advertiser.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is InvalidOperationException or SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, $"IPv6 router solicitation answers on {interfaceName} (iPXE will wait ~16 s for a router)", e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await advertiser.DisposeAsync();
        Dispose();
    }
}
