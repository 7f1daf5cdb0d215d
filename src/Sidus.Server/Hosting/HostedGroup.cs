using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>Services built together (the DHCP servers, one per interface) started in order and stopped in reverse.</summary>
internal sealed class HostedGroup(IReadOnlyList<IHostedService> services) : IHostedService, IAsyncDisposable
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var service in services)
        {
            await service.StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var service in services.Reverse())
        {
            await service.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in services)
        {
            if (service is IAsyncDisposable d)
            {
                await d.DisposeAsync();
            }
        }
    }
}
