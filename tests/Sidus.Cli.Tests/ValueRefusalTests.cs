using Sidus.Cli.Tests.Support;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Cli.Tests;

/// <summary>Bad values refused at every door: node add|set, apply -f, node add --range, and sidus.toml's pools.</summary>
public sealed class ValueRefusalTests : IDisposable
{
    private readonly SidusRun _sidus = new();

    public void Dispose() => _sidus.Dispose();

    [Fact]
    public void Multicast_broadcast_and_all_zero_macs_are_refused_by_add_set_and_apply()
    {
        var add = _sidus.Run("node", "add", "n1", "--mac", "01:00:5e:00:00:01");
        Assert.Equal(ExitCodes.Usage, add.ExitCode);
        Assert.Contains("01:00:5e:00:00:01 is a multicast MAC", add.Err, StringComparison.Ordinal);

        Assert.Equal(0, _sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01").ExitCode);
        var set = _sidus.Run("node", "set", "n1", "--add-mac", "ff:ff:ff:ff:ff:ff");
        Assert.Equal(ExitCodes.Usage, set.ExitCode);
        Assert.Contains("ff:ff:ff:ff:ff:ff is the broadcast MAC", set.Err, StringComparison.Ordinal);

        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, "version: 1\nnodes:\n  - name: n2\n    mac: 00:00:00:00:00:00\n");
        var apply = _sidus.Run("apply", "-f", file);
        Assert.Equal(ExitCodes.Usage, apply.ExitCode);
        Assert.Contains("00:00:00:00:00:00 is the all-zero MAC", apply.Err, StringComparison.Ordinal);
        Assert.Single(_sidus.Run("--no-headers", "node", "list").OutLines);
    }

    [Fact]
    public void Network_and_broadcast_addresses_are_refused_by_add_set_apply_and_ip_from()
    {
        var add = _sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--ip", "10.0.0.255");
        Assert.Equal(ExitCodes.Usage, add.ExitCode);
        Assert.Contains("10.0.0.255 is the broadcast address of 10.0.0.0/24", add.Err, StringComparison.Ordinal);

        var macs = Path.Combine(_sidus.Home, "macs.txt");
        File.WriteAllText(macs, "52:54:00:00:01:01\n52:54:00:00:01:02\n52:54:00:00:01:03\n");
        var range = _sidus.Run("node", "add", "--range", "c[1-3]", "--mac-from", macs, "--ip-from", "10.0.0.254");
        Assert.Equal(ExitCodes.Usage, range.ExitCode);
        Assert.StartsWith("sidus: --ip-from 10.0.0.254: c2 would get 10.0.0.255, the broadcast address of 10.0.0.0/24", range.ErrLines[^1], StringComparison.Ordinal);
        Assert.StartsWith("no nodes yet", _sidus.Run("node", "list").Out, StringComparison.Ordinal);

        // A declared wider subnet makes .255 an ordinary address, and its own edges are refused.
        Assert.Equal(0, _sidus.Run("network", "set", "lab", "--subnet", "10.0.0.0/23").ExitCode);
        Assert.Equal(0, _sidus.Run("node", "add", "--range", "c[1-3]", "--mac-from", macs, "--ip-from", "10.0.0.254").ExitCode);
        var narrower = _sidus.Run("network", "set", "lab", "--subnet", "10.0.0.0/24");
        Assert.Equal(ExitCodes.Usage, narrower.ExitCode);
        Assert.Contains("node 'c2' has 10.0.0.255, which would be the broadcast address of 10.0.0.0/24", narrower.Err, StringComparison.Ordinal);

        var set = _sidus.Run("node", "set", "c1", "--ip", "10.0.1.255");
        Assert.Equal(ExitCodes.Usage, set.ExitCode);
        Assert.Contains("10.0.1.255 is the broadcast address of 10.0.0.0/23", set.Err, StringComparison.Ordinal);

        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, "version: 1\nnetworks:\n  - name: lab\n    subnet: 10.0.0.0/23\nnodes:\n  - name: n9\n    mac: 52:54:00:00:00:09\n    ip: 10.0.0.0\n");
        var apply = _sidus.Run("apply", "-f", file);
        Assert.Equal(ExitCodes.Usage, apply.ExitCode);
        Assert.Contains("10.0.0.0 is the network address of 10.0.0.0/23", apply.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fixed_address_inside_a_pool_of_sidus_toml_is_refused_by_add_set_and_apply()
    {
        File.WriteAllText(Path.Combine(_sidus.Home, "sidus.toml"), """
            [[interface]]
            name = "eth1"
            dhcp = "full"
            address = "10.0.0.1/24"
            pools = ["10.0.0.100-10.0.0.200"]
            """);
        var add = _sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--ip", "10.0.0.150");
        Assert.Equal(ExitCodes.Usage, add.ExitCode);
        Assert.Contains("10.0.0.150 is inside the DHCP pool 10.0.0.100-10.0.0.200 of interface eth1", add.Err, StringComparison.Ordinal);

        Assert.Equal(0, _sidus.Run("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--ip", "10.0.0.20").ExitCode);
        Assert.Equal(ExitCodes.Usage, _sidus.Run("node", "set", "n1", "--ip", "10.0.0.100").ExitCode);

        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, "version: 1\nnodes:\n  - name: n2\n    mac: 52:54:00:00:00:02\n    ip: 10.0.0.200\n");
        var apply = _sidus.Run("apply", "-f", file);
        Assert.Equal(ExitCodes.Usage, apply.ExitCode);
        Assert.Contains("10.0.0.200 is inside the DHCP pool", apply.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.1-10.0.0.50", "the server's own address 10.0.0.1")]
    [InlineData("10.0.0.0-10.0.0.0", "10.0.0.0, the network address of 10.0.0.0/24")]
    [InlineData("10.0.0.200-10.0.0.255", "10.0.0.255, the broadcast address of 10.0.0.0/24")]
    public void A_pool_holding_the_servers_address_or_the_subnets_edges_is_refused(string pool, string held)
    {
        var options = ServeConfigFile.Parse($"""
            [[interface]]
            name = "eth1"
            dhcp = "full"
            address = "10.0.0.1/24"
            pools = ["{pool}"]
            """, "sidus.toml", new ServeOptions { Home = _sidus.Home });
        var e = Assert.Throws<ServeConfigException>(() => ServeSetup.DhcpOptions(options, options.Interfaces[0]));
        Assert.Equal($"interface eth1: pool {pool} holds {held}: make the pool a range that leaves it out", e.Message);
    }
}
