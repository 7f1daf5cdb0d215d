using System.Net;

namespace Sidus.Nodes.Tests;

/// <summary>Values no machine can have, refused by the model with the value named and the fix said.</summary>
public class ValueCheckTests
{
    [Theory]
    [InlineData("00:00:00:00:00:00", "all-zero")]
    [InlineData("ff:ff:ff:ff:ff:ff", "broadcast")]
    [InlineData("01:00:5e:00:00:fb", "multicast")]
    [InlineData("33:33:00:00:00:01", "multicast")]
    public void A_node_refuses_a_mac_no_network_card_has(string mac, string what)
    {
        var node = new Node { Name = "n1", Macs = [MacAddress.Parse(mac)] };
        var e = Assert.Throws<InventoryException>(() => node.Validated());
        Assert.Equal(InventoryErrorKind.Invalid, e.Kind);
        Assert.Contains(mac, e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains("sidus node discovered", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("52:54:00:12:34:56")]
    [InlineData("02:00:00:00:00:01")]
    [InlineData("fe:ff:ff:ff:ff:ff")]
    public void A_unicast_mac_is_accepted(string mac) =>
        Assert.Null(MacAddress.Parse(mac).NotACardProblem);

    [Theory]
    [InlineData("10.0.0.255", null, "broadcast address of 10.0.0.0/24")]
    [InlineData("10.0.1.0", null, "network address of 10.0.1.0/24")]
    [InlineData("10.0.1.0", "10.0.0.0/22", null)]
    [InlineData("10.0.3.255", "10.0.0.0/22", "broadcast address of 10.0.0.0/22")]
    [InlineData("10.0.0.0", "10.0.0.0/22", "network address of 10.0.0.0/22")]
    [InlineData("10.0.0.5", null, null)]
    [InlineData("0.0.0.0", null, "all-zero")]
    [InlineData("224.0.0.1", null, "multicast")]
    [InlineData("127.0.0.2", null, null)] // loopback: a node reached on this machine (how Sidus's own tests boot nodes)
    public void A_fixed_address_that_is_a_subnets_network_or_broadcast_address_is_refused(string ip, string? subnet, string? problem)
    {
        var networks = subnet is null ? [] : new[] { new NetworkPolicy { Name = "lab", Subnet = subnet }.Validated() };
        var found = HostAddress.Problem(IPAddress.Parse(ip), networks);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_a_declared_subnet_the_message_says_how_to_declare_a_wider_one()
    {
        var e = Assert.Throws<InventoryException>(() => HostAddress.Check(IPAddress.Parse("10.0.0.255"), [], "node 'n1'"));
        Assert.StartsWith("node 'n1': 10.0.0.255 is the broadcast address of 10.0.0.0/24", e.Message, StringComparison.Ordinal);
        Assert.Contains("sidus network set NAME --subnet CIDR", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subnet_written_as_an_address_inside_it_is_refused_with_the_subnet_it_meant()
    {
        var e = Assert.Throws<InventoryException>(() => new NetworkPolicy { Name = "lab", Subnet = "10.0.0.5/24" }.Validated());
        Assert.Contains("'10.0.0.5/24' is an address, not a subnet", e.Message, StringComparison.Ordinal);
        Assert.Contains("the subnet is 10.0.0.0/24", e.Message, StringComparison.Ordinal);
        Assert.Equal("10.0.0.0/24", new NetworkPolicy { Name = "lab", Subnet = "10.0.0.0/24" }.Validated().Subnet);
    }
}
