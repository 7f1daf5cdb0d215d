using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Server.Tests;

/// <summary>
/// The admin side of the HTTP API over real sockets with curl: reads of the inventory need a token unless the
/// configuration opens them, POST /api/apply changes the inventory for an admin only, and HTTP listens only where
/// it was asked to.
/// </summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-admin-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LogCollector _log = new();
    private InventoryStore _inventory = null!;
    private string _token = "";

    private static readonly string[] Reads = ["/api/nodes", "/api/status", "/api/exports"];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        _inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await _inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "n1", Macs = [ServerFixture.Mac(1)] }));
        _token = (await _inventory.EditAsync(e => e.AddAdminTokenAsync("admin", DateTimeOffset.UtcNow, null))).Secret;
    }

    public async Task DisposeAsync()
    {
        await _inventory.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private ServeOptions Options(bool publicReads = false) => new()
    {
        Home = _home,
        Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
        Tftp = new TftpSettings { Enabled = false },
        Nbd = new NbdSettings { Enabled = false },
        Api = new ApiSettings { PublicReads = publicReads },
        InventoryPollInterval = TimeSpan.FromMilliseconds(200),
    };

    private Task<SidusServer> StartAsync(ServeOptions options) =>
        SidusServer.StartAsync(options, b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Debug));

    [Fact]
    public async Task Reads_WithoutToken401_BadToken403_AdminToken200_HealthzOpen()
    {
        await using var server = await StartAsync(Options());
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";
        foreach (var path in Reads)
        {
            var (none, body, headers) = await Tools.CurlAsync(http + path);
            Assert.Equal(401, none);
            Assert.Contains("www-authenticate: Bearer", headers, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("admin token", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
            Assert.DoesNotContain("n1", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
            Assert.Equal(403, (await Tools.CurlAsync(http + path, Tools.Bearer(_token[..^2] + "xx"))).Status);
            Assert.Equal(403, (await Tools.CurlAsync(http + path, "-H", "Authorization: Basic YWRtaW46YWRtaW4=")).Status);
            var (ok, json, _) = await Tools.CurlAsync(http + path, Tools.Bearer(_token));
            Assert.Equal(200, ok);
            Assert.True(JsonDocument.Parse(json).RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array, path);
        }

        Assert.Equal(200, (await Tools.CurlAsync(http + "/healthz")).Status);

        // Refusals of a token are logged with their reason, never with the token.
        Assert.Contains(_log.Lines, l => l.Contains("not valid (unknown or revoked)", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Lines, l => l.Contains(_token[6..^2], StringComparison.Ordinal));

        // The use is noted (once a minute at most), off the request.
        await Tools.EventuallyAsync(async () => (await _inventory.ListAdminTokensAsync())[0].LastUsed is not null, TimeSpan.FromSeconds(10), "the token's last use recorded");
    }

    [Fact]
    public async Task Reads_PublicReadsOn_NoTokenNeeded()
    {
        await using var server = await StartAsync(Options(publicReads: true));
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";
        foreach (var path in Reads)
        {
            Assert.Equal(200, (await Tools.CurlAsync(http + path)).Status);
        }

        // Writes still need a token.
        Assert.Equal(401, (await Tools.CurlAsync(http + "/api/apply", "--data-binary", "nodes: []\n")).Status);
    }

    [Fact]
    public async Task Tokens_ExpiredAndRevoked_Refused()
    {
        var past = DateTimeOffset.UtcNow.AddHours(-2);
        var (_, expired) = await _inventory.EditAsync(e => e.AddAdminTokenAsync("old", past, past.AddHours(1)));
        var (_, doomed) = await _inventory.EditAsync(e => e.AddAdminTokenAsync("doomed", DateTimeOffset.UtcNow, null));
        await using var server = await StartAsync(Options());
        var url = $"http://127.0.0.1:{server.HttpEndpoint.Port}/api/nodes";
        Assert.Equal(403, (await Tools.CurlAsync(url, Tools.Bearer(expired))).Status);
        Assert.Contains(_log.Lines, l => l.Contains("admin token 'old' expired at", StringComparison.Ordinal));
        Assert.Equal(200, (await Tools.CurlAsync(url, Tools.Bearer(doomed))).Status);

        var revoke = await Tools.SidusAsync(_home, "token", "revoke", "doomed");
        Assert.True(revoke.ExitCode == 0, revoke.Err);
        await Tools.EventuallyAsync(async () => (await Tools.CurlAsync(url, Tools.Bearer(doomed))).Status == 403, TimeSpan.FromSeconds(10), "the revoked token refused");
        Assert.Equal(200, (await Tools.CurlAsync(url, Tools.Bearer(_token))).Status);
    }

    [Fact]
    public async Task Apply_AdminChangesTheInventoryOverHttp_OthersCannot()
    {
        await using var server = await StartAsync(Options());
        var http = $"http://127.0.0.1:{server.HttpEndpoint.Port}";

        // Two hundred nodes: far beyond the 8 KiB other requests may send.
        var yaml = new StringBuilder("groups:\n  - name: lab\n    mode: ram\nnodes:\n  - name: n1\n    mac: 52:54:00:00:01:01\n");
        for (var i = 0; i < 200; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - name: web{i:000}\n    mac: 52:54:00:aa:{i / 256:x2}:{i % 256:x2}\n    groups: [lab]\n");
        }

        var file = Path.Combine(_home, "cluster.yaml");
        await File.WriteAllTextAsync(file, yaml.ToString());
        var before = await _inventory.GetVersionAsync();
        Assert.Equal(401, (await Tools.CurlAsync(http + "/api/apply", "--data-binary", "@" + file)).Status);
        Assert.Equal(403, (await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer("sidus_guess")])).Status);
        Assert.Equal(before, await _inventory.GetVersionAsync());

        var (dry, dryBody, _) = await Tools.CurlAsync(http + "/api/apply?dry-run=true", ["--data-binary", "@" + file, .. Tools.Bearer(_token)]);
        Assert.Equal(200, dry);
        Assert.Contains("dry run: 201 to add", Encoding.UTF8.GetString(dryBody), StringComparison.Ordinal);
        Assert.Single((await _inventory.LoadAsync()).Nodes);

        var (status, body, _) = await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer(_token)]);
        var text = Encoding.UTF8.GetString(body);
        Assert.True(status == 200, text);
        Assert.Contains("+ node web199", text, StringComparison.Ordinal);
        Assert.EndsWith("applied: 201 to add, 0 to change, 0 to remove\n", text, StringComparison.Ordinal);
        Assert.Equal(201, (await _inventory.LoadAsync()).Nodes.Length);

        // The server serves the new inventory from the next request on (no poll to wait for).
        Assert.Equal(201, server.Inventory.Current.Nodes.Length);
        Assert.Contains(_log.Lines, l => l.Contains("Inventory changed over HTTP by token admin", StringComparison.Ordinal));

        // The same file again changes nothing; a bad one is a 400 naming its line, a conflict a 409.
        Assert.Contains("nothing to do", Encoding.UTF8.GetString((await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer(_token)])).Body), StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, "nodes:\n  - name: a\n    mac: 52:54:00:00:00:01\n    mdoe: ram\n");
        var (bad, badBody, _) = await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer(_token)]);
        Assert.Equal(400, bad);
        Assert.Contains("cluster.yaml:4:5", Encoding.UTF8.GetString(badBody), StringComparison.Ordinal);

        // An image that does not exist is refused the way `sidus apply` refuses it: the same check, at its key's line.
        await File.WriteAllTextAsync(file, "nodes:\n  - name: a\n    mac: 52:54:00:00:00:01\n    image: debain@12\n");
        var (missing, missingBody, _) = await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer(_token)]);
        Assert.Equal(400, missing);
        Assert.Contains("cluster.yaml:4:5: node 'a' cannot boot 'debain@12': there is no image 'debain'", Encoding.UTF8.GetString(missingBody), StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, "nodes:\n  - name: other\n    mac: 52:54:00:00:01:01\n");
        Assert.Equal(409, (await Tools.CurlAsync(http + "/api/apply", ["--data-binary", "@" + file, .. Tools.Bearer(_token)])).Status);
        Assert.Equal(201, (await _inventory.LoadAsync()).Nodes.Length);
    }

    [Fact]
    public void HttpListen_InterfacesServed_TheirAddressesAndLoopback()
    {
        var options = Options() with
        {
            Http = new HttpSettings(),
            Interfaces = [new InterfaceSettings { Name = "eth1", Address = IPAddress.Parse("10.0.0.1") }, new InterfaceSettings { Name = "eth2", Address = IPAddress.Parse("10.1.0.1") }],
        };
        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.1.0.1"), IPAddress.Loopback], ServeSetup.HttpListenAddresses(options));
        Assert.Equal([IPAddress.Any], ServeSetup.HttpListenAddresses(options with { Interfaces = [] }));
        Assert.Equal([IPAddress.Parse("10.0.0.1")], ServeSetup.HttpListenAddresses(options with { Http = new HttpSettings { Listen = IPAddress.Parse("10.0.0.1") } }));
    }

    [Fact]
    public async Task HttpListen_InterfaceConfigured_NoAnswerOnOtherAddresses()
    {
        // 127.0.0.2 stands for the served interface's address (all of 127/8 is this machine's): HTTP must answer there
        // and on 127.0.0.1, and not on 127.0.0.3, which it would with 0.0.0.0.
        var options = Options() with
        {
            Http = new HttpSettings { Port = 0 },
            Interfaces = [new InterfaceSettings { Name = "lo", Address = IPAddress.Parse("127.0.0.2"), Dhcp = DhcpService.Off }],
        };
        await using var server = await StartAsync(options);
        var port = server.HttpEndpoint.Port;
        Assert.Equal(200, (await Tools.CurlAsync($"http://127.0.0.2:{port}/healthz")).Status);
        Assert.Equal(200, (await Tools.CurlAsync($"http://127.0.0.1:{port}/healthz")).Status);
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => other.ConnectAsync(IPAddress.Parse("127.0.0.3"), port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public void Config_ApiAndGroup_ReadAndChecked()
    {
        var defaults = new ServeOptions { Home = "/var/lib/sidus" };
        Assert.False(defaults.Api.PublicReads);
        var o = ServeConfigFile.Parse("group = \"sidus\"\n[api]\npublic-reads = true\n", "sidus.toml", defaults);
        Assert.True(o.Api.PublicReads);
        Assert.Equal("sidus", o.Group);
        Assert.Contains("unknown setting 'public-read'", Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse("[api]\npublic-read = true\n", "sidus.toml", defaults)).Message, StringComparison.Ordinal);
        Assert.Contains("not a group name", Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse("group = \"a b\"\n", "sidus.toml", defaults)).Message, StringComparison.Ordinal);
        var change = Assert.Single(ConfigChanges.Between(defaults, o), c => c.Setting == "api.public-reads");
        Assert.True(change.Live);
        Assert.True(ConfigChanges.Apply(defaults, o).Api.PublicReads);
    }
}
