using Sidus.Server.Dhcp;

namespace Sidus.Server.Tests;

/// <summary>When a PXE/iPXE DHCP request begins a new boot in `sidus node status`.</summary>
public sealed class BootStartTests
{
    [Theory]
    [InlineData(0.1, true, true, false)]    // iPXE's REQUEST right after its DISCOVER: same exchange
    [InlineData(1.5, false, false, false)]  // the PXE ROM's 4011 request: same exchange
    [InlineData(6, false, true, false)]     // the iPXE this boot's PXE ROM loaded: same boot
    [InlineData(19, false, true, false)]
    [InlineData(25, false, true, true)]     // long after the ROM: a new boot
    [InlineData(6, true, true, true)]       // an iPXE ROM machine rebooting quickly: a new boot
    [InlineData(6, true, false, true)]      // a PXE ROM after iPXE: the machine rebooted
    [InlineData(6, false, false, true)]     // a PXE ROM again: the machine rebooted
    public void StartsNewBoot_Cases(double seconds, bool lastWasIpxe, bool isIpxe, bool expected) =>
        Assert.Equal(expected, InventoryDhcpNodeSource.StartsNewBoot(TimeSpan.FromSeconds(seconds), lastWasIpxe, isIpxe));
}
