using System.Text.RegularExpressions;
using Sidus.Wire.Ipv6;
using Sidus.Wire.Tests.Dhcp;
using Sidus.Testing;

namespace Sidus.Wire.Tests.Ipv6;

/// <summary>The "no router here" answer against ndisc6's rdisc6, a router discovery client we did not write.</summary>
public sealed class NoRouterAdvertiserTests : IDisposable
{
    private readonly DhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void Encode_Advertisement_IsSixteenBytesOfTypeAndZeros()
    {
        var message = RouterAdvertisement.NothingToConfigure();
        Assert.Equal(RouterAdvertisement.AdvertisementLength, message.Length);
        Assert.Equal(134, message[0]);
        Assert.All(message.AsSpan(1).ToArray(), b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(new byte[] { 133, 0, 0x12, 0x34, 0, 0, 0, 0 }, true)]
    [InlineData(new byte[] { 133, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0, 0, 1 }, true)]
    [InlineData(new byte[] { 133, 1, 0, 0, 0, 0, 0, 0 }, false)]
    [InlineData(new byte[] { 133, 0, 0, 0 }, false)]
    [InlineData(new byte[] { 135, 0, 0, 0, 0, 0, 0, 0 }, false)]
    public void IsSolicitation_Messages_Classified(byte[] message, bool expected) =>
        Assert.Equal(expected, RouterAdvertisement.IsSolicitation(message));

    [Fact]
    public async Task Rdisc6_Solicits_GetsLifetimeZeroAndNothingToConfigure()
    {
        var rdisc6 = Tool.Require("rdisc6", "ndisc6");
        var client = _lab.AddClient("52:54:00:00:06:01");
        await using var advertiser = new NoRouterAdvertiser(DhcpLab.Bridge, _lab.Log);
        _lab.ServerNs.Invoke(advertiser.Bind);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = advertiser.RunAsync(stop.Token);

        // Both link-local addresses must finish duplicate address detection before they can send.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(LinkLocalReady(client, DhcpLab.ClientInterface) && LinkLocalReady(_lab.ServerNs, DhcpLab.Bridge)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
        }

        var result = client.Run(rdisc6, ["-1", "-r", "8", "-w", "1500", DhcpLab.ClientInterface], TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;

        Assert.True(result.Succeeded, "rdisc6 got no advertisement: " + result);
        Assert.Matches(new Regex(@"Router lifetime\s*:\s*0 \("), result.StandardOutput);
        Assert.Matches(new Regex(@"Stateful address conf\.\s*:\s*No"), result.StandardOutput);
        Assert.Matches(new Regex(@"Stateful other conf\.\s*:\s*No"), result.StandardOutput);
        Assert.DoesNotContain("Prefix", result.StandardOutput, StringComparison.Ordinal);
        Assert.True(advertiser.Sent >= 1);
    }

    private static bool LinkLocalReady(NetworkNamespace ns, string device)
    {
        var addresses = ns.Ip("-6", "addr", "show", "dev", device, "scope", "link").StandardOutput;
        return addresses.Contains("inet6 fe80", StringComparison.Ordinal) && !addresses.Contains("tentative", StringComparison.Ordinal);
    }
}
