using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Nbd;

namespace Sidus.Server.Hosting;

/// <summary>
/// Runs the NBD server (bound before the host starts, so a taken port is reported at startup); <see cref="CachePruner"/>
/// removes the exports of versions that left the store.
/// </summary>
internal sealed class NbdHostedService(NbdServer server, ILogger<NbdHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await server.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, "NBD", e.Message);
            throw;
        }
    }
}
