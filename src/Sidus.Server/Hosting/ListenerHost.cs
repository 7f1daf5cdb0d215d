using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>
/// Hosts one <see cref="IBootListener"/>: binds it as the host starts (an essential listener's failure fails the start),
/// runs it in the background, and disposes it with the host. A running listener's socket error is logged; an essential
/// one's, or an essential listener that stops serving by itself, makes the server unhealthy (<see cref="ServerHealth"/>:
/// the watchdog stops) and stops the host, since a server that silently lost its TFTP or NBD must not look healthy.
/// The container that built the listener disposes it.
/// </summary>
internal sealed class ListenerHost(IBootListener listener, ServerHealth health, IHostApplicationLifetime lifetime, ILogger logger) : BackgroundService
{
    private bool _bound;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            listener.Bind();
            _bound = true;
        }
        catch (Exception e) when (!listener.Essential && e is ServeConfigException or InvalidOperationException or SocketException or IOException)
        {
            ServerLog.ServiceFailed(logger, listener.Name, e.Message);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_bound)
        {
            return;
        }

        try
        {
            await listener.RunAsync(stoppingToken);
            if (!stoppingToken.IsCancellationRequested)
            {
                Died("it stopped serving by itself");
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            ServerLog.ServiceFailed(logger, listener.Name, e.Message);
            Died(e.Message);
        }
    }

    private void Died(string reason)
    {
        if (!listener.Essential)
        {
            return;
        }

        health.ReportFailure(listener.Name, reason);
        ServerLog.ListenerDied(logger, health.Failure!);
        lifetime.StopApplication();
    }
}
