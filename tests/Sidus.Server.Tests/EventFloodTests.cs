using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Server.Inventory;
using Xunit.Abstractions;

namespace Sidus.Server.Tests;

/// <summary>
/// Issue 11, finding 6: a flood of boot events (20,000 from random MACs, 5,000 for one node, with terminal escapes in
/// their text) through the server's one way into the inventory leaves the database, /api/status and `sidus node
/// status` bounded, and no control character in what they show.
/// </summary>
public sealed class EventFloodTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RandomMacEvents = 20_000;
    private const int NodeEvents = 5_000;
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-flood-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LogCollector _log = new();
    private InventoryStore _inventory = null!;
    private string _token = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        _inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await _inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "victim", Macs = [ServerFixture.Mac(1)] }));
        await _inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "quiet", Macs = [ServerFixture.Mac(2)] }));
        _token = (await _inventory.EditAsync(e => e.AddAdminTokenAsync("admin", DateTimeOffset.UtcNow, null))).Secret;
    }

    public async Task DisposeAsync()
    {
        await _inventory.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Flood_DatabaseStatusAndNodeStatus_StayBoundedAndClean()
    {
        var options = new ServeOptions
        {
            Home = _home,
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Enabled = false },
            Nbd = new NbdSettings { Enabled = false },
        };
        await using var server = await SidusServer.StartAsync(options, b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Information));
        var recorder = server.Services.GetRequiredService<BootEventRecorder>();
        await _inventory.RecordBootEventAsync(new BootEvent(ServerFixture.Mac(2), BootStage.Up, DateTimeOffset.UtcNow, "fine"));

        // The baseline: node status with two nodes and one event.
        var baseline = await TimedNodeStatusAsync();

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < RandomMacEvents + NodeEvents; i++)
        {
            var mac = i % 5 == 4 ? ServerFixture.Mac(1) : new MacAddress((ulong)Random.Shared.NextInt64(1, 1L << 47) << 1);
            var e = new BootEvent(mac, i % 2 == 0 ? BootStage.Up : BootStage.Error, DateTimeOffset.UtcNow, $"event {i} \u001b[2J\u001b]0;pwned\u0007 {new string('x', 200)}")
            {
                Up = new Sidus.Wire.Contracts.UpReport { Host = "pwned\u001b[31m", SshEd25519 = "SHA256:fake\u009b" },
            };
            while (!recorder.Record(e))
            {
                await Task.Delay(5);
            }
        }

        var last = ServerFixture.Mac(1);
        Assert.True(recorder.Record(new BootEvent(last, BootStage.Up, DateTimeOffset.UtcNow, "the last one")));
        await Tools.EventuallyAsync(async () =>
            (await _inventory.GetBootStatusAsync()).FirstOrDefault(s => s.Node == "victim")?.Latest.Detail == "the last one",
            TimeSpan.FromSeconds(120), "the flood stored");
        var stored = clock.Elapsed;

        // The database: the node's newest events only, nothing of the random MACs.
        var count = await _inventory.CountBootEventsAsync();
        Assert.InRange(count, 2, BootEventLimits.Default.PerMachine + 1);
        var dbBytes = Directory.GetFiles(_home, InventoryStore.DefaultFileName + "*").Sum(f => new FileInfo(f).Length);
        Assert.True(dbBytes < 8 * 1024 * 1024, $"the inventory grew to {dbBytes} bytes");

        // The log says so, a few lines (one per 10 s at most), not 20,000.
        var noNode = _log.Lines.Count(l => l.Contains("from machines that are no node are not stored", StringComparison.Ordinal));
        Assert.InRange(noNode, 1, 2 + (int)(stored.TotalSeconds / BootEventRecorder.NoNodeLogInterval.TotalSeconds));

        // /api/status: two nodes, small; clean text.
        var (code, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{server.HttpEndpoint.Port}/api/status", Tools.Bearer(_token));
        Assert.Equal(200, code);
        Assert.True(body.Length < 16 * 1024, $"/api/status is {body.Length} bytes");
        Assert.DoesNotContain("\\u001B", Encoding.UTF8.GetString(body), StringComparison.OrdinalIgnoreCase);

        // sidus node status: small, about as quick as before the flood, no control character.
        var after = await TimedNodeStatusAsync();
        Assert.True(after.Output.Length < 64 * 1024, $"node status printed {after.Output.Length} characters");
        Assert.True(after.Time < (baseline.Time * 3) + TimeSpan.FromSeconds(2), $"node status took {after.Time.TotalSeconds:F1} s after the flood, {baseline.Time.TotalSeconds:F1} s before");
        Assert.DoesNotContain(after.Output, c => char.IsControl(c) && c is not ('\n' or '\t')); // piped: plain, tab-separated
        output.WriteLine(
            $"{RandomMacEvents + NodeEvents} events stored in {stored.TotalSeconds:F1} s; kept {count}; inventory {dbBytes} bytes; /api/status {body.Length} bytes; "
            + $"node status {after.Output.Length} chars in {after.Time.TotalSeconds:F2} s (before the flood {baseline.Time.TotalSeconds:F2} s)");
        var json = (await Tools.SidusAsync(_home, "node", "status", "--json")).Text;
        Assert.True(json.Length < 256 * 1024, $"node status --json printed {json.Length} characters");
        Assert.DoesNotContain(json, c => char.IsControl(c) && c is not '\n' and not '\r');
        Assert.DoesNotContain("\\u001B", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\\u009B", json, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<(TimeSpan Time, string Output)> TimedNodeStatusAsync()
    {
        var clock = Stopwatch.StartNew();
        var r = await Tools.SidusAsync(_home, "node", "status");
        Assert.True(r.ExitCode == 0, r.Err);
        return (clock.Elapsed, r.Text);
    }
}
