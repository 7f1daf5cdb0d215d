namespace Sidus.E2E.Tests.Support;

/// <summary>
/// dnsmasq as the DHCP server of a namespace's boot network (br0; DHCP only, no DNS): for the boot tests whose
/// subject is the agent, not Sidus's own DHCP. Its leases and log go to WORK.
/// </summary>
internal static class BootDhcp
{
    public static BackgroundProcess Start(NetworkNamespace ns, string work)
    {
        var dnsmasq = Tool.Require("dnsmasq", "dnsmasq-base");
        return new BackgroundProcess("ip", ["netns", "exec", ns.Name, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0",
            "--interface=br0", "--bind-interfaces", "--dhcp-range=10.77.0.50,10.77.0.150,255.255.255.0,1h",
            "--dhcp-option=3," + NetworkNamespace.HostAddress, "--dhcp-leasefile=" + Path.Combine(work, "leases"), "--log-dhcp",
            "--pid-file=" + Path.Combine(work, "dnsmasq.pid")], Path.Combine(work, "dnsmasq.log"));
    }
}
