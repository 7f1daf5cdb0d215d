using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Tftp;

namespace Sidus.Server.Hosting;

/// <summary>Runs the TFTP server (bound before the host starts, so a taken port is reported at startup).</summary>
internal sealed class TftpHostedService(TftpServer server, ILogger<TftpHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await server.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, "TFTP", e.Message);
            throw;
        }
    }
}
