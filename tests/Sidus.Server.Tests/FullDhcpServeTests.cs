using System.Text.Json;
using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>
/// `sidus serve --dhcp full` owns its network: busybox udhcpc, ISC dhclient and dhcpcd get addresses from the pool
/// without being nodes; the network policy decides what such a machine boots (ignore: nothing; discover and boot:
/// the group's settings, discover also lists it); a second server on the same interface refuses to start and names
/// the process in its way (a proxy shares port 67 with the site's DHCP server, but not port 4011 with another proxy).
/// </summary>
[Collection(ServeDhcpCollection.Name)]
public sealed class FullDhcpServeTests : IDisposable
{
    /// <summary>What a BIOS PXE ROM says about itself (vendor class, architecture 0), as udhcpc options.</summary>
    private static readonly string[] PxeRom = ["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000"];

    /// <summary>iPXE after it loaded: the same, plus user class "iPXE".</summary>
    private static readonly string[] Ipxe = [.. PxeRom, "-x", "0x4d:69505845"];

    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(60);

    private readonly ServeDhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task Udhcpc_NotANodeAndNoNetwork_GetsALeaseButNothingToBoot()
    {
        await _lab.StartServeAsync();
        const string Mac = "02:00:00:00:21:01";
        var client = _lab.AddClient(Mac);

        // A PXE ROM's request: it still gets an address, but no next-server and no boot file.
        var lease = DhcpClients.Udhcpc(_lab, client, PxeRom);

        Assert.True(ServeDhcpLab.InPool(lease.Address), lease.Raw);
        Assert.Equal(ServeDhcpLab.ServerAddress, lease.ServerId);
        Assert.Null(lease.BootFile);
        Assert.Contains("siaddr= serverid=", lease.Raw, StringComparison.Ordinal);
        Assert.Contains($"DHCP ACK {lease.Address} to {Mac} (SELECTING) for 01:00:00: unknown machine, no network covers 10.78.0.1 (policy ignore): no boot",
            _lab.ServerLog, StringComparison.Ordinal);
        Assert.DoesNotContain("is set to be ignored", _lab.ServerLog, StringComparison.Ordinal);
        // The lease is journalled like any other, and the boot script still refuses the machine.
        var journal = await File.ReadAllTextAsync(Path.Combine(_lab.Home, "dhcp-leases-br0.journal"));
        Assert.Contains($"{lease.Address} {Mac} ", journal, StringComparison.Ordinal);
        Assert.Contains("is not in the Sidus inventory", ServeDhcpLab.Curl(client, lease.Address, "/boot/02-00-00-00-21-01.ipxe"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dhclient_NotANodeOnAnIgnoreNetwork_GetsALeaseButNoBootFile()
    {
        var set = await _lab.SidusAsync("network", "set", "lab", "--subnet", "10.78.0.0/24", "--unknown", "ignore");
        Assert.Contains("network lab 10.78.0.0/24: unknown machines get an address only (ignore)", set.Text, StringComparison.Ordinal);
        await _lab.StartServeAsync();
        var plain = _lab.AddClient("02:00:00:00:22:01");
        var pxe = _lab.AddClient("02:00:00:00:22:02");

        var plainLease = DhcpClients.Dhclient(_lab, plain, _lab.TempFile("plain.leases"));
        var pxeLease = DhcpClients.Dhclient(_lab, pxe, _lab.TempFile("pxe.leases"),
            "option pxe-arch code 93 = unsigned integer 16;\nsend pxe-arch 0;\nsend vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n");

        Assert.True(ServeDhcpLab.InPool(plainLease.Address), plainLease.Raw);
        Assert.True(ServeDhcpLab.InPool(pxeLease.Address), pxeLease.Raw);
        Assert.NotEqual(plainLease.Address, pxeLease.Address);
        Assert.Equal("3600", pxeLease.LeaseSeconds);
        Assert.Null(pxeLease.BootFile);
        Assert.Contains($"DHCP ACK {pxeLease.Address} to 02:00:00:00:22:02 (SELECTING) for 01:00:00: unknown machine, network lab policy ignore: no boot",
            _lab.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dhcpcd_NotANode_IsOfferedAnAddressFromThePool()
    {
        await _lab.StartServeAsync();
        var client = _lab.AddClient("02:00:00:00:23:01");

        var offer = DhcpClients.DhcpcdTest(_lab, client, "-i", "PXEClient:Arch:00007:UNDI:003016");

        Assert.True(ServeDhcpLab.InPool(offer["new_ip_address"]), string.Join("\n", offer));
        Assert.Equal("255.255.255.0", offer["new_subnet_mask"]);
        Assert.Equal("3600", offer["new_dhcp_lease_time"]);
        Assert.False(offer.ContainsKey("new_filename"), string.Join("\n", offer));
        Assert.Contains("DHCP OFFER " + offer["new_ip_address"] + " to 02:00:00:00:23:01: unknown machine, no network covers 10.78.0.1 (policy ignore): no boot",
            _lab.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Udhcpc_NotANodeOnABootNetwork_BootsWithTheGroupAndIsNotListed()
    {
        await _lab.SidusAsync("group", "add", "lab", "--kernel-args", "console=ttyS0");
        await _lab.SidusAsync("network", "set", "lab", "--subnet", "10.78.0.0/24", "--unknown", "boot", "--group", "lab");
        await _lab.StartServeAsync();
        const string Mac = "02:00:00:00:24:01";
        var client = _lab.AddClient(Mac);

        var rom = DhcpClients.Udhcpc(_lab, client, PxeRom);
        var ipxe = DhcpClients.Udhcpc(_lab, client, Ipxe);

        Assert.True(ServeDhcpLab.InPool(rom.Address), rom.Raw);
        Assert.Equal("undionly.kpxe", rom.BootFile);
        Assert.Contains("siaddr=10.78.0.1", rom.Raw, StringComparison.Ordinal);
        Assert.Equal("http://10.78.0.1/boot/02-00-00-00-24-01.ipxe", ipxe.BootFile);
        Assert.Equal(rom.Address, ipxe.Address);
        Assert.Contains($"unknown machine, network lab policy boot (group lab): file 'undionly.kpxe'", _lab.ServerLog, StringComparison.Ordinal);
        // The script boots it with the group's settings (the group has no image, so it is told so and how to give it one).
        var script = ServeDhcpLab.Curl(client, rom.Address, "/boot/02-00-00-00-24-01.ipxe");
        Assert.Contains("boots with group lab, which gives it none: sidus group set lab --image IMAGE", script, StringComparison.Ordinal);
        var discovered = await _lab.SidusAsync("node", "discovered", "--json");
        Assert.Empty(JsonDocument.Parse(discovered.Text).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Udhcpc_OnADiscoverNetwork_ThePxeClientBootsAndIsListedThePlainOneIsNot()
    {
        await _lab.SidusAsync("group", "add", "newcomers");
        await _lab.SidusAsync("network", "set", "lab", "--subnet", "10.78.0.0/24", "--unknown", "discover", "--group", "newcomers");
        await _lab.StartServeAsync();
        var laptop = _lab.AddClient("02:00:00:00:25:01");
        var rack = _lab.AddClient("02:00:00:00:25:02");

        var laptopLease = DhcpClients.Udhcpc(_lab, laptop);
        var rackLease = DhcpClients.Udhcpc(_lab, rack, PxeRom);

        Assert.True(ServeDhcpLab.InPool(laptopLease.Address), laptopLease.Raw);
        Assert.Null(laptopLease.BootFile);
        Assert.Equal("undionly.kpxe", rackLease.BootFile);
        Assert.Contains("unknown machine, network lab policy discover (group newcomers): file 'undionly.kpxe'", _lab.ServerLog, StringComparison.Ordinal);
        // Discoveries are recorded in order, off the DHCP path: once the PXE machine's shows, the laptop's would have too.
        List<string?> macs = [];
        await Tools.EventuallyAsync(async () =>
        {
            var list = await _lab.SidusAsync("node", "discovered", "--json");
            macs = [.. JsonDocument.Parse(list.Text).RootElement.EnumerateArray().Select(d => d.GetProperty("mac").GetString())];
            return macs.Contains("02:00:00:00:25:02");
        }, TimeSpan.FromSeconds(20), "the PXE machine being listed as discovered");
        Assert.DoesNotContain("02:00:00:00:25:01", macs);
    }

    [Fact]
    public async Task SecondServe_SameInterface_RefusesToStartAndNamesTheFirst()
    {
        var first = await _lab.StartServeAsync();

        // Its own HTTP port, no TFTP, no NBD: only DHCP stands in its way.
        using var second = _lab.StartServe(["--no-tftp", "--no-nbd", "--http-port", "8081"]);

        Assert.True(second.WaitForExit(ExitLimit), "the second sidus serve kept running:\n" + second.Output);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains($"sidus: UDP port 67 on br0 is already held by dotnet (pid {first.Id}: dotnet ", second.Output, StringComparison.Ordinal);
        Assert.Contains(" serve --interface br0 ", second.Output, StringComparison.Ordinal);
        Assert.Contains("stop it first", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP listening on", second.Output, StringComparison.Ordinal);
        // The first one serves on.
        var lease = DhcpClients.Udhcpc(_lab, _lab.AddClient("02:00:00:00:26:01"));
        Assert.True(ServeDhcpLab.InPool(lease.Address), lease.Raw);
    }

    [Fact]
    public async Task SecondServe_SameCommand_RefusesToStartAndNamesTheFirst()
    {
        var first = await _lab.StartServeAsync("--no-nbd");

        using var second = _lab.StartServe(["--no-nbd"]);

        Assert.True(second.WaitForExit(ExitLimit), "the second sidus serve kept running:\n" + second.Output);
        Assert.NotEqual(0, second.ExitCode);
        // Whichever port it tries first (TFTP binds before DHCP), the process holding it is named.
        Assert.Contains($"is already held by dotnet (pid {first.Id}: dotnet ", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnTheInterfaceOfDnsmasq_RefusesToStartAndNamesIt()
    {
        var dnsmasq = StartDnsmasq();
        await WaitForUdp67Async(dnsmasq);

        using var serve = _lab.StartServe(["--no-tftp", "--no-nbd"]);

        Assert.True(serve.WaitForExit(ExitLimit), "sidus serve kept running beside dnsmasq:\n" + serve.Output);
        Assert.NotEqual(0, serve.ExitCode);
        Assert.Contains($"UDP port 67 on br0 is already held by dnsmasq (pid {dnsmasq.Id}: ", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnTheInterfaceOfKea_RefusesToStartAndNamesIt()
    {
        var config = _lab.TempFile("kea.json");
        await File.WriteAllTextAsync(config, """
            { "Dhcp4": {
                "interfaces-config": { "interfaces": [ "br0" ] },
                "lease-database": { "type": "memfile", "persist": false },
                "subnet4": [ { "subnet": "10.78.0.0/24", "pools": [ { "pool": "10.78.0.50 - 10.78.0.60" } ] } ]
            } }
            """);
        var kea = _lab.ServerNs.Start("/usr/bin/env",
            ["KEA_LOCKFILE_DIR=" + _lab.TempFile(""), "KEA_PIDFILE_DIR=" + _lab.TempFile(""), Tool.Require("kea-dhcp4", "kea-dhcp4-server"), "-c", config]);
        await WaitForUdp67Async(kea);

        using var serve = _lab.StartServe(["--no-tftp", "--no-nbd"]);

        Assert.True(serve.WaitForExit(ExitLimit), "sidus serve kept running beside Kea:\n" + serve.Output);
        Assert.NotEqual(0, serve.ExitCode);
        Assert.Contains($"UDP port 67 on br0 is already held by kea-dhcp4 (pid {kea.Id}: ", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_BesideTheSitesDnsmasq_StartsButASecondProxyRefusesAndNamesTheFirst()
    {
        // proxyDHCP beside the site's DHCP server on one machine shares port 67 (its job); port 4011 is its own.
        var dnsmasq = StartDnsmasq();
        await WaitForUdp67Async(dnsmasq);
        using var proxy = _lab.StartProxy(8081);
        Assert.True(await proxy.WaitForOutputAsync("HTTP listening on", TimeSpan.FromSeconds(60)), "the proxy did not start beside dnsmasq:\n" + proxy.Output);

        using var second = _lab.StartProxy(8082);

        Assert.True(second.WaitForExit(ExitLimit), "the second proxy kept running:\n" + second.Output);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains($"UDP port 4011 on br0 is already held by dotnet (pid {proxy.Id}: dotnet ", second.Output, StringComparison.Ordinal);
    }

    private BackgroundProcess StartDnsmasq() => _lab.ServerNs.Start(Tool.Require("dnsmasq", "dnsmasq-base"),
    [
        "--keep-in-foreground", "--port=0", "--interface=br0", "--bind-interfaces", "--dhcp-range=10.78.0.50,10.78.0.60,12h",
        "--leasefile-ro", "--conf-file=/dev/null", "--pid-file=" + _lab.TempFile("dnsmasq.pid"),
    ]);

    /// <summary>Waits until some process in the server namespace holds UDP port 67 (the other server is up).</summary>
    private async Task WaitForUdp67Async(BackgroundProcess server)
    {
        await Tools.EventuallyAsync(() =>
        {
            var sockets = _lab.ServerNs.Run("ss", ["-Hlun", "sport", "= :67"]);
            return Task.FromResult(sockets.StandardOutput.Contains(":67", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20), "the other DHCP server binding port 67 (its output: " + server.Output + ")");
    }
}
