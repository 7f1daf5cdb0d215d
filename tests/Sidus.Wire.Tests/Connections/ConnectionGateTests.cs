using System.Net;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Connections;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Connections;

public sealed class ConnectionGateTests
{
    private static EndPoint From(int host, int port = 5000) => new IPEndPoint(IPAddress.Parse($"10.0.0.{host}"), port);

    [Theory]
    [InlineData(1024UL, 512)]
    [InlineData(4096UL, 2816)]
    [InlineData(20_000UL, 15_000)]
    [InlineData(524_288UL, ConnectionBudget.DefaultMaximum)]
    public void FromDescriptorLimit_KeepsHeadroomAndACeiling(ulong descriptors, int expected) =>
        Assert.Equal(expected, ConnectionBudget.FromDescriptorLimit(descriptors));

    [Fact]
    public void Budget_Full_OnlyAddressesHoldingNoneUseTheReserve()
    {
        var budget = new ConnectionBudget(8);
        var log = new ListLogger();
        var gate = new ConnectionGate("HTTP", 10, budget, log);
        Assert.Equal(2, budget.Reserve);

        var held = Enumerable.Range(0, 6).Select(i => gate.TryAdmit(From(1, 1000 + i))).ToList();
        Assert.All(held, Assert.NotNull);
        // The seventh from the same address would take a reserved place.
        Assert.Null(gate.TryAdmit(From(1, 2000)));
        Assert.True(log.Contains(LogLevel.Warning, "kept for addresses that hold none"), log.Dump());
        // Two machines holding nothing get in; a third finds the server full.
        using var second = gate.TryAdmit(From(2));
        using var third = gate.TryAdmit(From(3));
        Assert.NotNull(second);
        Assert.NotNull(third);
        Assert.Null(gate.TryAdmit(From(4)));
        Assert.Equal(8, budget.Open);
        Assert.Equal(2, gate.Refused);

        held[0]!.Dispose();
        held[0]!.Dispose();
        Assert.Equal(7, budget.Open);
        Assert.Equal(5, gate.HeldBy(IPAddress.Parse("10.0.0.1")));
        held.ForEach(t => t!.Dispose());
    }

    [Fact]
    public void PerSource_Reached_RefusesThatAddressOnly()
    {
        var gate = new ConnectionGate("NBD", 2, new ConnectionBudget(100));
        using var a = gate.TryAdmit(From(1));
        using var b = gate.TryAdmit(From(1, 5001));
        Assert.Null(gate.TryAdmit(From(1, 5002)));
        using var c = gate.TryAdmit(From(2));
        Assert.NotNull(c);
    }

    [Fact]
    public void Loopback_WhenExempt_PassesThePerAddressLimitButCountsInTheBudget()
    {
        var budget = new ConnectionBudget(100);
        var gate = new ConnectionGate("NBD", 1, budget, loopbackUnlimited: true);
        var local = Enumerable.Range(0, 5).Select(i => gate.TryAdmit(new IPEndPoint(IPAddress.Loopback, 6000 + i))).ToList();
        Assert.All(local, Assert.NotNull);
        Assert.Equal(5, budget.Open);
        using var remote = gate.TryAdmit(From(9));
        Assert.NotNull(remote);
        Assert.Null(gate.TryAdmit(From(9, 5001)));
        local.ForEach(t => t!.Dispose());
    }
}
