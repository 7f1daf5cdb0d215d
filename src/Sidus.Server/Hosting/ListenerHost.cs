using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>
/// Hosts one <see cref="IBootListener"/>: binds it as the host starts (an essential listener's failure fails the start),
/// runs it in the background, and disposes it with the host. A running listener's socket error is logged; an essential
/// one's also stops the host, since a server that silently lost its TFTP or NBD must not look healthy. The container
/// that built the listener disposes it.
/// </summary>
internal sealed class ListenerHost(IBootListener listener, ILogger logger) : BackgroundService
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
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            ServerLog.ServiceFailed(logger, listener.Name, e.Message);
            if (listener.Essential)
            {
                throw;
            }
        }
    }
}
