using System.Globalization;
using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// The legitimate path under attack (issue 11): while a second namespace on the same bridge holds thousands of idle
/// connections to HTTP and NBD, floods TFTP and DHCP, and keeps asking for the booting node's script and override
/// layer, a real QEMU node boots through the real `sidus serve` to "up" in ram and in shared mode. The attacker gets
/// neither the node's secrets nor its boot, and the server is still serving afterwards.
/// </summary>
public sealed class UnderAttackBootTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const string Node = "vm1";
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(480);

    [VmTheory]
    [InlineData("ram")]
    [InlineData("shared")]
    public void Serve_NodeBootsToUp_WhileAttackerFloodsAndGrabsItsSecrets(string mode)
    {
        using var boot = new ServeBoot(fixture);
        var add = boot.Sidus("node", "add", Node, "--mac", boot.Mac, "--image", BootImageFixture.Image, "--mode", mode, "--kernel-args", "console=ttyS0 panic=-1");
        Assert.True(add.Code == 0, "sidus node add failed: " + add.Output);
        boot.StartServe();
        using var attacker = new BootNetworkAttacker(boot, ListeningPort(boot, "HTTP"), ListeningPort(boot, "NBD"), BootLimit);
        Assert.True(DisklessBoot.WaitFor(() => attacker.Summary() is not null, TimeSpan.FromSeconds(60)),
            "the attacker's flood did not start:\n" + attacker.Log);

        boot.PowerOn(Firmware.Bios);
        var (up, status) = boot.WaitForStage(Node, "up", BootLimit);
        var summary = attacker.Summary();
        output.WriteLine($"{mode}: power-on to up under attack: {boot.Clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("attacker: " + summary);
        Assert.True(up, "the node did not reach 'up' under attack; status: " + status + "\nserial:\n" + ServeBoot.Tail(boot.Serial, 5000) +
                        "\nserve:\n" + ServeBoot.Tail(boot.ServeText, 5000) + "\nattacker:\n" + ServeBoot.Tail(attacker.Log, 2000));
        Assert.DoesNotContain(ServeBoot.Stages(status), s => s.Stage == "error");

        // The flood ran for the whole boot, and none of its grabs got the node's secrets or its boot script.
        Assert.NotNull(summary);
        var grabs = summary.Value.GetProperty("grabs");
        Assert.True(summary.Value.GetProperty("tftp").GetInt32() > 1000, "the TFTP flood did not run: " + summary);
        Assert.True(Count(grabs.GetProperty("overrides")) > 10, "the attacker did not try the overrides: " + summary);
        Assert.False(grabs.GetProperty("overrides").TryGetProperty("200", out _), "the attacker got the node's override layer: " + summary);
        // The attacker asks for the node's script from its own MAC: it may get an answer, never the boot's ticket.
        Assert.True(Count(grabs.GetProperty("script")) > 10, "the attacker did not try the script: " + summary);
        Assert.False(grabs.GetProperty("script").TryGetProperty("200-ticket", out _), "the attacker got a boot ticket for the node: " + summary);

        // The node's own view: it got its secrets once, and no second claim raised an alarm.
        Assert.Contains("sidus-agent: overrides: ", boot.Serial, StringComparison.Ordinal);
        var after = boot.Status(Node);
        Assert.True(after is { } s && s.GetProperty("stage").GetString() == "up", "the node is no longer up: " + after);

        // The server is still serving: the boot script answers from the server's own namespace.
        var health = boot.Namespace.Exec("curl", "-sS", "-m", "10", $"http://{NetworkNamespace.HostAddress}:{ListeningPort(boot, "HTTP")}/healthz");
        Assert.StartsWith("ok", health, StringComparison.Ordinal);
    }

    private static int Count(JsonElement statuses) => statuses.EnumerateObject().Sum(p => p.Value.GetInt32());

    /// <summary>The port of "WHAT listening on ADDRESS:PORT" in the serve log.</summary>
    private static int ListeningPort(ServeBoot boot, string what)
    {
        var line = boot.ServeText.Split('\n').First(l => l.Contains(what + " listening on", StringComparison.Ordinal)).Trim();
        return int.Parse(line[(line.LastIndexOf(':') + 1)..].TrimEnd('/'), CultureInfo.InvariantCulture);
    }
}
