using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// A machine whose MAC is in no inventory boots against the real `sidus serve`: it gets a lease (the server answers
/// unknown machines with defaults), is told clearly on its console why it cannot boot, asks again a bounded number of
/// times, gives up, and the operator finds it in `sidus node discovered`.
/// </summary>
public sealed class ServeUnknownNodeTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const int AskAgainAttempts = 2;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    [Fact]
    public void Serve_UnknownMachine_ToldWhyAsksBoundedTimesGivesUpAndIsListedAsDiscovered()
    {
        using var boot = new ServeBoot(fixture);
        boot.StartServe($"""
            [boot]
            ask-again-attempts = {AskAgainAttempts}
            ask-again-delay = 2
            retry-delay = 1
            """);
        boot.PowerOn(Firmware.Bios);
        var gaveUp = DisklessBoot.WaitFor(() => boot.Serial.Contains("Gave up after", StringComparison.Ordinal), Limit);
        // Time for a wrong extra ask to show, were there one: the script leaves iPXE after a 1 s pause.
        Thread.Sleep(TimeSpan.FromSeconds(8));
        var serial = boot.Serial;
        var serve = boot.ServeText;
        output.WriteLine("serial:\n" + ServeBoot.Tail(serial, 5000));
        output.WriteLine("serve:\n" + ServeBoot.Tail(serve, 5000));
        Assert.True(gaveUp, "the machine did not give up within the limit; serial:\n" + ServeBoot.Tail(serial, 5000) + "\nserve:\n" + ServeBoot.Tail(serve, 5000));

        var message = $"this machine ({boot.Mac}) is not in the Sidus inventory. Add it with: sidus node add NAME --mac {boot.Mac}";
        Assert.Contains(message, serial, StringComparison.Ordinal);
        for (var attempt = 1; attempt <= AskAgainAttempts; attempt++)
        {
            Assert.Contains($"(try {attempt} of {AskAgainAttempts + 1})", serial, StringComparison.Ordinal);
        }

        Assert.Contains($"Gave up after {AskAgainAttempts} tries; leaving iPXE.", serial, StringComparison.Ordinal);
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
        Assert.True(entry.GetProperty("timesSeen").GetInt32() >= 1);
        var nodes = boot.Sidus("node", "list");
        Assert.DoesNotContain(boot.Mac, nodes.Output, StringComparison.Ordinal);
    }
}
