using System.Globalization;
using System.Text.RegularExpressions;
using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>
/// /metrics of the real `sidus serve` after real traffic: a node's PXE DHCP exchange with busybox udhcpc in a
/// namespace, then its boot script over HTTP. Prometheus's own promtool accepts the text, the counters moved, the
/// node is counted by its stage, and no label holds a MAC or an IP address.
/// </summary>
[Collection(ServeDhcpCollection.Name)]
public sealed partial class MetricsTests : IDisposable
{
    /// <summary>A BIOS PXE ROM's request (vendor class, architecture 0), as udhcpc options.</summary>
    private static readonly string[] PxeRom = ["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000"];

    private const string Mac = "02:00:00:00:31:01";

    private readonly ServeDhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task Metrics_AfterADhcpExchangeAndABootScript_PassPromtoolAndCount()
    {
        var promtool = Tool.Require("promtool", "prometheus");
        var root = _lab.TempFile("root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "hostname"), "m1\n");
        await _lab.SidusAsync("image", "import", "demo", root);
        await _lab.SidusAsync("node", "add", "m1", "--mac", Mac, "--image", "demo", "--mode", "ram");
        await _lab.SidusAsync("node", "add", "m2", "--mac", "02:00:00:00:31:02");
        await File.WriteAllTextAsync(Path.Combine(_lab.Home, "sidus.toml"), "[api]\npublic-metrics = true\n");
        await _lab.StartServeAsync();

        var before = Parse(Scrape());
        var client = _lab.AddClient(Mac);
        var lease = DhcpClients.Udhcpc(_lab, client, PxeRom);
        Assert.True(ServeDhcpLab.InPool(lease.Address), lease.Raw);
        ServeDhcpLab.Curl(client, lease.Address, "/boot/02-00-00-00-31-01.ipxe");

        // The stages are written by the event writer: wait until the node is counted at its latest (the script's).
        var text = "";
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < until)
        {
            text = Scrape();
            if (Parse(text).GetValueOrDefault("sidus_nodes{state=\"script\"}") == 1)
            {
                break;
            }

            await Task.Delay(200);
        }

        var file = _lab.TempFile("metrics.txt");
        await File.WriteAllTextAsync(file, text);
        var check = await Tools.RunAsync("sh", ["-c", $"{promtool} check metrics < {file}"]);
        Assert.True(check.ExitCode == 0, $"promtool check metrics: {check.Text}{check.Err}\n{text}");
        Assert.Equal("", (check.Text + check.Err).Trim());

        var after = Parse(text);
        double Moved(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
        Assert.True(Moved("sidus_dhcp_received_packets_total") >= 2, text);
        Assert.True(Moved("sidus_dhcp_sent_replies_total") >= 2, text);
        Assert.True(Moved("sidus_dhcp_committed_leases_total") >= 1, text);
        Assert.True(Moved("sidus_boot_events_total{result=\"recorded\",stage=\"dhcp\"}") >= 1, text);
        Assert.True(Moved("sidus_http_responses_total{code=\"2xx\",kind=\"script\"}") >= 1, text);
        Assert.True(Moved("sidus_http_sent_bytes_total{kind=\"script\"}") > 0, text);
        Assert.True(after.ContainsKey("sidus_dhcp_dropped_packets_total{reason=\"malformed\"}"), text);
        Assert.True(after.ContainsKey("sidus_connections_refused_total{service=\"http\"}"), text);
        Assert.True(Moved("sidus_boot_events_total{result=\"recorded\",stage=\"script\"}") >= 1, text);
        Assert.Equal(1, after["sidus_nodes{state=\"script\"}"]);
        Assert.Equal(1, after["sidus_nodes{state=\"never\"}"]);
        Assert.Equal(2, after.Where(s => s.Key.StartsWith("sidus_nodes{", StringComparison.Ordinal)).Sum(s => s.Value));
        Assert.Contains("# TYPE sidus_boot_events_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sidus_nodes gauge", text, StringComparison.Ordinal);

        // Figures only: no MAC, no address in any label.
        Assert.DoesNotMatch(MacOrAddress(), text);
        Assert.DoesNotContain(lease.Address, text, StringComparison.Ordinal);
    }

    /// <summary>GET /metrics from the server's own namespace.</summary>
    private string Scrape()
    {
        var result = _lab.ServerNs.Run(Tool.Require("curl", "curl"), ["-sS", "--max-time", "20", "http://127.0.0.1/metrics"], TimeSpan.FromSeconds(30));
        Assert.True(result.Succeeded, result.ToString());
        return result.StandardOutput;
    }

    /// <summary>Each sample line as "name{labels}" to its value.</summary>
    private static Dictionary<string, double> Parse(string text) =>
        text.Split('\n').Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => (Series: l[..l.LastIndexOf(' ')], Value: double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
            .ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal);

    [GeneratedRegex(@"([0-9a-f]{2}[:-]){5}[0-9a-f]{2}|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", RegexOptions.IgnoreCase)]
    private static partial Regex MacOrAddress();
}
