using Sidus.Server.Hosting;
using Sidus.Wire.Ipv6;

namespace Sidus.Server.Dhcp;

/// <summary>
/// Where Sidus owns the network (full DHCP) it also tells iPXE there is no IPv6 router, sparing each boot ~16 s. It only
/// shortens iPXE's boot, so a failure is logged and the server goes on without it.
/// </summary>
public sealed class NoRouterListener(NoRouterAdvertiser advertiser, string interfaceName) : IBootListener
{
    public string Name => $"IPv6 router solicitation answers on {interfaceName} (iPXE will wait ~16 s for a router)";

    public bool Essential => false;

    public void Bind() => advertiser.Bind();

    public Task RunAsync(CancellationToken stopping) => advertiser.RunAsync(stopping);

    public string Describe() => $"ipv6 no-router answers on {interfaceName}";

    public ValueTask DisposeAsync() => advertiser.DisposeAsync();
}
