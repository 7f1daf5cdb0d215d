using System.Net;
using Sidus.Wire.Ipxe;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Server.Tests;

public sealed class ConfigTests
{
    private static readonly ServeOptions Defaults = new() { Home = "/var/lib/sidus" };

    [Fact]
    public void Parse_FullExample_ReadsEverySection()
    {
        var o = ServeConfigFile.Parse("""
            home = "/srv/sidus"
            [http]
            listen = "10.0.0.1"
            port = 8080
            [tftp]
            port = 6969
            ipxe-directory = "/opt/ipxe"
            [boot]
            download-attempts = 5
            ask-again-delay = 10
            agent = "/usr/lib/sidus/sidus-agent"
            [[interface]]
            name = "eth1"
            dhcp = "full"
            address = "10.0.0.1/24"
            pools = ["10.0.0.100-10.0.0.200"]
            router = "10.0.0.254"
            dns = ["10.0.0.53", "10.0.0.54"]
            domain = "cluster.lan"
            lease-time = 600
            [[interface]]
            name = "eth2"
            dhcp = "proxy"
            """, "sidus.toml", Defaults);
        Assert.Equal("/srv/sidus", o.Home);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), o.Http.Listen);
        Assert.Equal(8080, o.Http.Port);
        Assert.Equal("/usr/lib/sidus/sidus-agent", o.Boot.AgentPath);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, BootSettings.AgentFileName), Defaults.Boot.AgentPath);
        Assert.Equal(6969, o.Tftp.Port);
        Assert.Equal("/opt/ipxe", o.Tftp.IpxeDirectory);
        Assert.Equal(5, o.Boot.DownloadAttempts);
        Assert.Equal(TimeSpan.FromSeconds(10), o.Boot.AskAgainDelay);
        Assert.Equal(2, o.Interfaces.Count);
        var eth1 = o.Interfaces[0];
        Assert.Equal(DhcpService.Full, eth1.Dhcp);
        Assert.Equal(IPNetwork.Parse("10.0.0.0/24"), eth1.Subnet);
        Assert.Equal(["10.0.0.100-10.0.0.200"], eth1.Pools);
        Assert.Equal(2, eth1.Dns.Count);
        Assert.Equal(TimeSpan.FromSeconds(600), eth1.LeaseTime);
        Assert.Equal(DhcpService.Proxy, o.Interfaces[1].Dhcp);
    }

    [Fact]
    public void Parse_Limits_ReadsEachAndKeepsTheRestsDefaults()
    {
        var o = ServeConfigFile.Parse("[limits]\nmax-connections = 3000\nnbd-connections-per-source = 4\nhttp-idle-timeout = 20\ntftp-requests-per-second = 0\n", "sidus.toml", Defaults);

        Assert.Equal(3000, o.Limits.MaxConnections);
        Assert.Equal(4, o.Limits.NbdConnectionsPerSource);
        Assert.Equal(TimeSpan.FromSeconds(20), o.Limits.HttpIdleTimeout);
        Assert.Equal(0, o.Limits.TftpRequestsPerSecond);
        Assert.Equal(new LimitsSettings().HttpConnectionsPerSource, o.Limits.HttpConnectionsPerSource);
        Assert.Equal(8, o.Limits.TftpTransfersPerSource);
    }

    [Theory]
    [InlineData("[http]\nprot = 80", "unknown setting 'prot'")]
    [InlineData("[http]\nport = 99999", "'port' must be a whole number from 0 to 65535")]
    [InlineData("[[interface]]\ndhcp = \"full\"", "every [[interface]] needs a name")]
    [InlineData("[[interface]]\nname = \"eth1\"\ndhcp = \"sometimes\"", "not a DHCP mode")]
    [InlineData("[[interface]]\nname = \"eth1\"\naddress = \"10.0.0.1\"", "address with a prefix")]
    [InlineData("home = ", "not valid TOML")]
    [InlineData("[dhcp]\ndecline-share = 150", "'decline-share' must be")]
    [InlineData("[dhcp]\nmax-discoverd = 10", "unknown setting 'max-discoverd'")]
    [InlineData("[limits]\nhttp-connections-per-source = 0", "'http-connections-per-source' must be a whole number from 1 to 100000")]
    [InlineData("[limits]\nidle = 5", "unknown setting 'idle'")]
    public void Parse_Mistakes_AreClearErrors(string text, string expected)
    {
        var e = Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse(text, "sidus.toml", Defaults));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DhcpDefences_ReachEveryDhcpServer()
    {
        var o = ServeConfigFile.Parse("""
            [dhcp]
            offer-hold = 20
            unknown-offer-hold = 5
            decline-quarantine = 300
            declines-per-client = 1
            decline-share = 25
            max-discovered-per-network = 50
            max-discovered = 100
            unknown-records-per-minute = 30

            [[interface]]
            name = "eth1"
            dhcp = "full"
            address = "10.0.0.1/24"
            pools = ["10.0.0.100-10.0.0.199"]
            """, "sidus.toml", Defaults);

        Assert.Equal(new Sidus.Nodes.DiscoveryLimits(50, 100), o.Dhcp.Discovered);
        Assert.Equal(30, o.Dhcp.UnknownRecordsPerMinute);
        var dhcp = ServeSetup.DhcpOptions(o, o.Interfaces[0]);
        Assert.Equal(TimeSpan.FromSeconds(20), dhcp.OfferHold);
        Assert.Equal(TimeSpan.FromSeconds(5), dhcp.UnknownOfferHold);
        Assert.Equal(TimeSpan.FromMinutes(5), dhcp.DeclineQuarantine);
        Assert.Equal(1, dhcp.DeclinesPerClient);
        Assert.Equal(25, dhcp.DeclineSharePercent);
        // The defaults.
        var defaults = ServeSetup.DhcpOptions(Defaults with { Interfaces = o.Interfaces }, o.Interfaces[0]);
        Assert.Equal((2, 10, 256, 1024), (defaults.DeclinesPerClient, defaults.DeclineSharePercent, Defaults.Dhcp.Discovered.PerNetwork, Defaults.Dhcp.Discovered.Total));
    }

    [Fact]
    public void InterfaceAddress_MissingInterface_SaysWhichExist()
    {
        var e = Assert.Throws<ServeConfigException>(() => InterfaceAddress.Read("nosuch0"));
        Assert.Contains("there is no network interface 'nosuch0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("lo", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("quiet ${net0/mac}")]
    [InlineData("quiet || shell")]
    [InlineData("quiet && shell")]
    [InlineData("quiet\nshell")]
    [InlineData("quiet\u00e9")]
    [InlineData("a ; shell")]
    [InlineData("quiet #")]
    [InlineData("a\\b")]
    [InlineData("x=`id`")]
    [InlineData("x='a'")]
    public void CheckKernelArgs_IpxeSyntax_IsRefused(string args) => Assert.NotNull(IpxeText.CheckKernelArgs(args));

    [Fact]
    public void Message_HostileText_CannotBecomeACommand() =>
        Assert.Equal("a?b ??x? ?? chain http://evil", IpxeText.Message("a\nb ${x} || chain http://evil"));

    [Fact]
    public void Boot_Script_IsExact()
    {
        var script = IpxeScript.Boot(new IpxeBoot("n1", "/k", "/i", "quiet"), 2, TimeSpan.FromSeconds(3));
        Assert.Equal("""
            #!ipxe
            echo Sidus: n1
            kernel /k initrd=initrd quiet && goto initrd ||
            echo Sidus: kernel download failed (attempt 1 of 2)
            sleep 3
            kernel /k initrd=initrd quiet && goto initrd ||
            echo Sidus: kernel download failed (attempt 2 of 2)
            goto failed
            :initrd
            initrd --name initrd /i && goto boot ||
            echo Sidus: initramfs download failed (attempt 1 of 2)
            sleep 3
            initrd --name initrd /i && goto boot ||
            echo Sidus: initramfs download failed (attempt 2 of 2)
            goto failed
            :boot
            boot ||
            :failed
            echo Sidus: n1 did not boot; leaving iPXE so the next boot device is tried
            sleep 3
            exit 1

            """.ReplaceLineEndings("\n"), script);
    }
}
