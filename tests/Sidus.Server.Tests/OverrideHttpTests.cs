using System.Formats.Tar;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Access;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Server.Http;

namespace Sidus.Server.Tests;

/// <summary>
/// GET /api/nodes/{mac}/overrides.tar over real sockets with curl: the address rule (curl --interface picks the
/// asking address on loopback), the tar's content, and the identity kept across a server restart.
/// </summary>
public sealed class OverrideHttpTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-ovr-" + Guid.NewGuid().ToString("N")[..12]);
    private SidusServer _server = null!;

    private const string AnyVersion = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private string Url(int n) => $"http://127.0.0.1:{_server.HttpEndpoint.Port}/api/nodes/{ServerFixture.Mac(n)}/overrides.tar";

    /// <summary>The overrides of node N asked from address FROM with a session node N claimed there.</summary>
    private async Task<(int Status, byte[] Body, string Headers)> AsNodeAsync(int n, string from = NodeSessions.Loopback)
    {
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(n), AnyVersion, from);
        return await Tools.CurlAsync(Url(n), [.. NodeSessions.Bearer(session), "--interface", from]);
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(async e =>
            {
                await e.AddNodeAsync(new Node { Name = "local1", Macs = [ServerFixture.Mac(1)], Ip = IPAddress.Parse("127.0.0.1") });
                await e.AddNodeAsync(new Node { Name = "local2", Macs = [ServerFixture.Mac(2)], Ip = IPAddress.Parse("127.0.0.2") });
                await e.AddNodeAsync(new Node { Name = "roamer", Macs = [ServerFixture.Mac(3)] });
                await e.AddNodeAsync(new Node { Name = "broken", Macs = [ServerFixture.Mac(4)], Ip = IPAddress.Parse("127.0.0.3") });
            });
        }

        var brokenTree = Path.Combine(_home, "overrides", "nodes", "broken", "etc");
        Directory.CreateDirectory(brokenTree);
        await File.WriteAllTextAsync(Path.Combine(brokenTree, "motd.tmpl"), "hi\n{{ node.nope }}\n");
        var globalTree = Path.Combine(_home, "overrides", "global", "etc");
        Directory.CreateDirectory(globalTree);
        await File.WriteAllTextAsync(Path.Combine(globalTree, "motd.tmpl"), "welcome to {{ node.name }} via {{ server.address }}\n");
        _server = await StartAsync();
    }

    private Task<SidusServer> StartAsync() => SidusServer.StartAsync(new ServeOptions
    {
        Home = _home,
        Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
        Tftp = new TftpSettings { Enabled = false },
        InventoryPollInterval = TimeSpan.FromMilliseconds(200),
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Overrides_FromFixedAddress_TarWithRenderedFiles()
    {
        var (status, body, headers) = await AsNodeAsync(1);
        Assert.Equal(200, status);
        Assert.Contains("application/x-tar", headers, StringComparison.Ordinal);
        var entries = Read(body);
        Assert.Equal("local1\n", Encoding.UTF8.GetString(entries["etc/hostname"].Data));
        Assert.Equal($"welcome to local1 via 127.0.0.1:{_server.HttpEndpoint.Port}\n", Encoding.UTF8.GetString(entries["etc/motd"].Data));
        Assert.Equal((UnixFileMode)0x180, entries["etc/ssh/ssh_host_ed25519_key"].Mode);
        Assert.Contains("127.0.0.2\tlocal2\n", Encoding.UTF8.GetString(entries["etc/hosts"].Data), StringComparison.Ordinal);
        Assert.Contains("report up", Encoding.UTF8.GetString(entries["etc/systemd/system/sidus-up.service"].Data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_FromAnotherAddress_Refused403WithoutKeys()
    {
        // Its session, claimed at its fixed address, used from another one.
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(2), AnyVersion, "127.0.0.2");
        var (status, body, _) = await Tools.CurlAsync(Url(2), NodeSessions.Bearer(session));
        Assert.Equal(403, status);
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("the credential was issued to 127.0.0.2, not 127.0.0.1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);

        var (again, other, _) = await AsNodeAsync(2, "127.0.0.2");
        Assert.Equal(200, again);
        Assert.Contains("OPENSSH PRIVATE KEY", Encoding.UTF8.GetString(Read(other)["etc/ssh/ssh_host_ed25519_key"].Data), StringComparison.Ordinal);
    }

    /// <summary>
    /// A machine nothing ties to the node (no fixed address, no lease of ours, no neighbour entry: loopback, a routed
    /// client) gets no boot ticket, so no session and no secrets; neither does one at another node's fixed address.
    /// </summary>
    [Fact]
    public void Ticket_AddressNotTiedToTheNode_Refused()
    {
        var access = _server.Services.GetRequiredService<NodeAccess>();
        Assert.Null(access.IssueTicket(ServerFixture.Mac(3), [ServerFixture.Mac(3)], null, IPAddress.Loopback, AnyVersion, out var why));
        Assert.Contains("cannot tie 127.0.0.1 to node roamer", why, StringComparison.Ordinal);
        Assert.Null(access.IssueTicket(ServerFixture.Mac(2), [ServerFixture.Mac(2)], IPAddress.Parse("127.0.0.2"), IPAddress.Loopback, AnyVersion, out var fixedWhy));
        Assert.Contains("expected at its fixed address 127.0.0.2, not 127.0.0.1", fixedWhy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_UnknownMacOrBadTemplate_404And500WithReason()
    {
        var (unknown, _, _) = await Tools.CurlAsync(Url(9));
        Assert.Equal(404, unknown);
        var (broken, body, _) = await AsNodeAsync(4, "127.0.0.3");
        Assert.Equal(500, broken);
        Assert.Contains("motd.tmpl:2: unknown variable 'node.nope'", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_ServerRestarted_SameMachineIdAndKeys()
    {
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), AnyVersion);
        var first = Read((await Tools.CurlAsync(Url(1), NodeSessions.Bearer(session))).Body);
        await _server.DisposeAsync();
        _server = await StartAsync();

        // The session of before the restart still opens them: the key and the claims are kept in the home.
        var second = Read((await Tools.CurlAsync(Url(1), NodeSessions.Bearer(session))).Body);
        foreach (var path in new[] { "etc/machine-id", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_ecdsa_key.pub" })
        {
            Assert.Equal(first[path].Data, second[path].Data);
        }
    }

    [Fact]
    public async Task Overrides_WithoutSessionOrWithAnotherNodes_Refused()
    {
        var (none, noneBody, _) = await Tools.CurlAsync(Url(1));
        Assert.Equal(401, none);
        Assert.DoesNotContain("PRIVATE KEY", Encoding.UTF8.GetString(noneBody), StringComparison.Ordinal);

        var local2 = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(2), AnyVersion, "127.0.0.2");
        var (other, otherBody, _) = await Tools.CurlAsync(Url(1), NodeSessions.Bearer(local2));
        Assert.Equal(403, other);
        Assert.Contains("the credential is local2's, not local1's", Encoding.UTF8.GetString(otherBody), StringComparison.Ordinal);

        var ticket = NodeSessions.Ticket(_server, ServerFixture.Mac(1), AnyVersion);
        var (withTicket, _, _) = await Tools.CurlAsync(Url(1), NodeSessions.Bearer(ticket));
        Assert.Equal(403, withTicket);
    }

    [Fact]
    public void OverrideAccess_LeaseAndNeighbourRules_Decide()
    {
        var node = new Node { Name = "n", Macs = [ServerFixture.Mac(7)] };
        var a = IPAddress.Parse("10.0.0.7");
        var b = IPAddress.Parse("10.0.0.8");
        Assert.True(OverrideAccess.Check(node, a, m => m == ServerFixture.Mac(7) ? a : null, _ => null, false).Allowed);
        Assert.False(OverrideAccess.Check(node, b, m => m == ServerFixture.Mac(7) ? a : null, _ => ServerFixture.Mac(7), false).Allowed);
        Assert.True(OverrideAccess.Check(node, b, _ => null, _ => ServerFixture.Mac(7), false).Allowed);
        Assert.False(OverrideAccess.Check(node, b, _ => null, _ => ServerFixture.Mac(8), true).Allowed);
        Assert.False(OverrideAccess.Check(node, b, _ => null, _ => null, false).Allowed);
        Assert.True(OverrideAccess.Check(node, b, _ => null, _ => null, true).Allowed);
    }

    private static Dictionary<string, (byte[] Data, UnixFileMode Mode)> Read(byte[] tar)
    {
        var result = new Dictionary<string, (byte[], UnixFileMode)>(StringComparer.Ordinal);
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            using var data = new MemoryStream();
            e.DataStream?.CopyTo(data);
            result[e.Name] = (data.ToArray(), e.Mode);
        }

        return result;
    }
}
