using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Boot.Ipv6;

namespace Sidus.Server.Dhcp;

/// <summary>
/// Runs <see cref="NoRouterAdvertiser"/> on a full-DHCP interface. It only shortens iPXE's boot, so a failure to
/// start it is logged and the server goes on without it.
/// </summary>
internal sealed class NoRouterHostedService(NoRouterAdvertiser advertiser, string interfaceName, ILogger logger) : IHostedService, IAsyncDisposable
{
    private CancellationTokenSource? _stop;
    private Task? _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            advertiser.Bind();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            ServerLog.ServiceFailed(logger, $"IPv6 router solicitation answers on {interfaceName} (iPXE will wait ~16 s for a router)", e.Message);
            return Task.CompletedTask;
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
        await advertiser.DisposeAsync();
        _stop?.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await advertiser.RunAsync(ct);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            ServerLog.ServiceFailed(logger, $"IPv6 router solicitation answers on {interfaceName}", e.Message);
        }
    }
}
