using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// A machine whose MAC is in no inventory boots against the real `sidus serve` on a network whose policy for unknown
/// machines is discover (elsewhere, policy ignore, it would get an address and nothing to boot), with a default group
/// that names no image: it gets a lease, is told on its console why it cannot boot, asks again a bounded number of
/// times, gives up, and the operator finds it in `sidus node discovered`.
/// </summary>
public sealed class ServeUnknownNodeTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const int AskAgainAttempts = 2;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    [VmFact]
    public void Serve_UnknownMachine_ToldWhyAsksBoundedTimesGivesUpAndIsListedAsDiscovered()
    {
        using var boot = new ServeBoot(fixture);
        var cluster = Path.Combine(boot.Work, "cluster.yaml");
        File.WriteAllText(cluster, """
            networks:
              - name: lab
                subnet: 10.77.0.0/24
                unknown: discover
                group: newcomers
            groups:
              - name: newcomers
                kernel-args: "console=ttyS0"
            """);
        var apply = boot.Sidus("apply", "-f", cluster);
        Assert.True(apply.Code == 0, "sidus apply failed: " + apply.Output);
        boot.StartServe($"""
            [boot]
            ask-again-attempts = {AskAgainAttempts}
            ask-again-delay = 2
            retry-delay = 1
            """);
        boot.PowerOn(Firmware.Bios);
        var gaveUp = DisklessBoot.WaitFor(() => Unwrapped(boot.Serial).Contains("Gave up after", StringComparison.Ordinal), Limit);
        // Time for a wrong extra ask to show, were there one: the script leaves iPXE after a 1 s pause.
        Thread.Sleep(TimeSpan.FromSeconds(8));
        var serial = boot.Serial;
        var serve = boot.ServeText;
        var console = Unwrapped(serial);
        output.WriteLine("serial:\n" + ServeBoot.Tail(serial, 5000));
        output.WriteLine("serve:\n" + ServeBoot.Tail(serve, 5000));
        Assert.True(gaveUp, "the machine did not give up within the limit; serial:\n" + ServeBoot.Tail(serial, 5000) + "\nserve:\n" + ServeBoot.Tail(serve, 5000));

        // The server names an unknown machine after its MAC and boots it with its network's default group.
        var standIn = "unknown-" + boot.Mac.Replace(":", string.Empty, StringComparison.Ordinal);
        Assert.Contains($"node {standIn} has no image", console, StringComparison.Ordinal);
        Assert.Contains($"sidus node adopt {boot.Mac} NAME", console, StringComparison.Ordinal);
        for (var attempt = 1; attempt <= AskAgainAttempts; attempt++)
        {
            Assert.Contains($"(try {attempt} of {AskAgainAttempts + 1})", console, StringComparison.Ordinal);
        }

        Assert.Contains($"Gave up after {AskAgainAttempts} tries: leaving iPXE.", console, StringComparison.Ordinal);
        // One first ask and exactly AskAgainAttempts more: the server saw each, and no other.
        var asks = serve.Split('\n').Count(l => l.Contains($"Script for {boot.Mac}", StringComparison.Ordinal));
        Assert.Equal(AskAgainAttempts + 1, asks);
        Assert.Contains($"gave up after {AskAgainAttempts} tries", serve, StringComparison.Ordinal);

        var table = boot.Sidus("node", "discovered");
        output.WriteLine("sidus node discovered:\n" + table.Output);
        Assert.Equal(0, table.Code);
        Assert.Contains(boot.Mac, table.Output, StringComparison.Ordinal);
        var json = boot.Sidus("node", "discovered", "--json");
        Assert.Equal(0, json.Code);
        var entry = JsonDocument.Parse(json.Output).RootElement.EnumerateArray().Single(d => d.GetProperty("mac").GetString() == boot.Mac);
        Assert.Equal("0", entry.GetProperty("arch").GetString());
        Assert.Equal("lab", entry.GetProperty("network").GetString());
        Assert.Equal("newcomers", entry.GetProperty("group").GetString());
        Assert.True(entry.GetProperty("timesSeen").GetInt32() >= 1);
        var nodes = boot.Sidus("node", "list");
        Assert.DoesNotContain(boot.Mac, nodes.Output, StringComparison.Ordinal);
    }

    /// <summary>iPXE wraps its console at 80 columns: messages are matched with the wraps undone.</summary>
    private static string Unwrapped(string serial) =>
        serial.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal);
}
