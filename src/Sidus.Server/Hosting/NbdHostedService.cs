using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Boot.Nbd;
using Sidus.Server.Images;

namespace Sidus.Server.Hosting;

/// <summary>
/// Runs the NBD server (bound before the host starts, so a taken port is reported at startup) and, beside it, removes
/// the erofs exports of versions that left the store once no node has them open.
/// </summary>
internal sealed class NbdHostedService(NbdServer server, ErofsExports exports, ILogger<NbdHostedService> logger) : BackgroundService
{
    /// <summary>How often exports of removed versions are looked for (gc is rare; a stale file only costs disk).</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pruning = PruneAsync(stoppingToken);
        try
        {
            await server.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, "NBD", e.Message);
            throw;
        }
        finally
        {
            await pruning;
        }
    }

    private async Task PruneAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PruneInterval);
        try
        {
            do
            {
                try
                {
                    exports.Prune();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or Sidus.Store.StoreException)
                {
                    ServerLog.ServiceFailed(logger, "NBD export pruning", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
