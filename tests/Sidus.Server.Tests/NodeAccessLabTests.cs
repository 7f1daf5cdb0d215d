using System.Text.RegularExpressions;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Store;
using Sidus.Testing;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// Issue 11, findings 1-3, as an attacker on the boot network would try them: `sidus serve --dhcp full` on a bridge,
/// the node and the attacker each in a namespace of their own with their own Ethernet MAC. The attacker takes the
/// address the offline node leased (or the fixed address of another) and asks for the node's override layer and boot
/// script: refused, because the server's neighbour table shows the attacker's MAC there and it holds no credential.
/// The node itself, on the same bridge, boots its way through (ticket, claim, session, overrides).
/// </summary>
[Collection(ServeDhcpCollection.Name)]
public sealed partial class NodeAccessLabTests : IDisposable
{
    private const string VictimMac = "02:00:00:00:31:01";
    private const string FixedMac = "02:00:00:00:31:02";
    private const string FixedIp = "10.78.0.20";
    private const string AttackerMac = "02:00:00:00:31:66";

    /// <summary>iPXE's DHCP request: a PXE client with user class "iPXE".</summary>
    private static readonly string[] Ipxe = ["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000", "-x", "0x4d:69505845"];

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly ServeDhcpLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task LeaseOfAnOfflineNode_TakenByAnotherMachine_NoOverridesNoTicket()
    {
        await StartAsync();
        var victim = _lab.AddClient(VictimMac);
        var lease = DhcpClients.Udhcpc(_lab, victim, Ipxe);
        victim.Ip("addr", "replace", lease.Address + "/24", "dev", DhcpClients.Interface);

        // The node's own boot: script with a ticket, claim, session, its overrides.
        var script = BootableRoot.ScriptWhenReady(() => Curl(victim, NodeRoutes.Script(VictimMac.Replace(':', '-'))).Body);
        var ticket = Ticket().Match(script).Groups[1].Value;
        Assert.True(ticket.Length > 0, "no ticket in the node's script:\n" + script);
        var (claimed, session) = Curl(victim, NodeRoutes.Claim, "-X", "POST", "--data-binary", ticket);
        Assert.Equal(200, claimed);
        Assert.Equal(200, Curl(victim, NodeRoutes.Overrides(VictimMac), "-H", "Authorization: Bearer " + session.Trim()).Status);

        // The node goes offline; another machine takes its address.
        victim.Ip("link", "set", DhcpClients.Interface, "down");
        var attacker = _lab.AddClient(AttackerMac, lease.Address + "/24");
        Assert.Equal(200, Curl(attacker, "/healthz").Status);

        var (plain, plainBody) = Curl(attacker, NodeRoutes.Overrides(VictimMac));
        Assert.Equal(401, plain);
        Assert.DoesNotContain("PRIVATE KEY", plainBody, StringComparison.Ordinal);
        var (stolen, stolenBody) = Curl(attacker, NodeRoutes.Overrides(VictimMac), "-H", "Authorization: Bearer " + session.Trim());
        Assert.Equal(403, stolen);
        Assert.Contains($"{lease.Address} is {AttackerMac} in the neighbour table, not one of the node's MACs", stolenBody, StringComparison.Ordinal);

        // Nor can it send an overlay as the node's capture (it would become the image's next version).
        var capture = NodeJob.CaptureRoute(VictimMac, 1);
        Assert.Equal(401, Curl(attacker, capture, "-X", "POST", "--data-binary", "forged overlay").Status);
        var (stolenCapture, stolenCaptureBody) = Curl(attacker, capture, "-X", "POST", "-H", "Authorization: Bearer " + session.Trim(), "--data-binary", "forged overlay");
        Assert.Equal(403, stolenCapture);
        Assert.Contains("not one of the node's MACs", stolenCaptureBody, StringComparison.Ordinal);

        var attackerScript = Curl(attacker, NodeRoutes.Script(VictimMac.Replace(':', '-'))).Body;
        Assert.DoesNotContain("ticket=", attackerScript, StringComparison.Ordinal);
        Assert.Contains($"no boot ticket: {lease.Address} is {AttackerMac} in the neighbour table", attackerScript, StringComparison.Ordinal);

        // The ticket read off the node (its /proc/cmdline) is spent: a second claim is refused and raises the alarm.
        var (replayed, _) = Curl(attacker, NodeRoutes.Claim, "-X", "POST", "--data-binary", ticket);
        Assert.Equal(409, replayed);
        var status = await _lab.SidusAsync("node", "status", "victim");
        Assert.Contains($"ALARM victim", status.Text, StringComparison.Ordinal);
        Assert.Contains($"claimed a second time, from {lease.Address} ({AttackerMac})", status.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FixedAddressOfANode_TakenByAnotherMachine_NoOverridesNoTicket()
    {
        await StartAsync();
        var attacker = _lab.AddClient(AttackerMac, FixedIp + "/24");
        Assert.Equal(200, Curl(attacker, "/healthz").Status);

        var (status, body) = Curl(attacker, NodeRoutes.Overrides(FixedMac));
        Assert.Equal(401, status);
        Assert.DoesNotContain("PRIVATE KEY", body, StringComparison.Ordinal);
        var script = Curl(attacker, NodeRoutes.Script(FixedMac.Replace(':', '-'))).Body;
        Assert.DoesNotContain("ticket=", script, StringComparison.Ordinal);
        Assert.Contains($"no boot ticket: {FixedIp} is {AttackerMac} in the neighbour table", script, StringComparison.Ordinal);
        Assert.Contains("Node credential refused to " + FixedIp, _lab.ServerLog, StringComparison.Ordinal);
    }

    /// <summary>A home with one image (a kernel in /boot) and the two nodes (ram mode), then serve.</summary>
    private async Task StartAsync()
    {
        var root = Path.Combine(_lab.Home, "root");
        await BootableRoot.WriteAsync(root);
        using (var repository = Repository.Open(_lab.Home))
        {
            new ImageStore(repository).ImportDirectory("deb", root, "access test", null, CancellationToken.None);
        }

        Directory.Delete(root, recursive: true);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_lab.Home, InventoryStore.DefaultFileName)))
        {
            var settings = new NodeSettings { Image = "deb", Mode = BootMode.Ram };
            await inventory.EditAsync(async e =>
            {
                await e.AddNodeAsync(new Node { Name = "victim", Macs = [MacAddress.Parse(VictimMac)], Settings = settings });
                await e.AddNodeAsync(new Node { Name = "fixed", Macs = [MacAddress.Parse(FixedMac)], Ip = System.Net.IPAddress.Parse(FixedIp), Settings = settings });
            });
        }

        await _lab.StartServeAsync();
    }

    /// <summary>curl from inside CLIENT's namespace: the status and the body.</summary>
    private static (int Status, string Body) Curl(NetworkNamespace client, string path, params string[] extra)
    {
        var result = client.Run(Tool.Require("curl", "curl"),
            ["-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}", .. extra, $"http://{ServeDhcpLab.ServerAddress}{path}"], Limit);
        Assert.True(result.Succeeded, $"curl {path} failed: {result}");
        var text = result.StandardOutput;
        var cut = text.LastIndexOf('\n');
        return (int.Parse(text[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture), text[..cut]);
    }

    [GeneratedRegex(@"vmlinuz\?ticket=([A-Za-z0-9_-]+)")]
    private static partial Regex Ticket();
}
