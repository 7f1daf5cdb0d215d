using System.Net;
using System.Net.Sockets;
using System.Text;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Store;
using Sidus.Store.Capture;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// The route a shared-mode node's agent posts its overlay to (`sidus node capture`), against a live server, the body
/// made by the agent's own walker in its one-way mode over a directory standing for the overlay's upper layer: who
/// may send, and what a stalled, cut or hostile upload leaves: a 4xx saying why, the image as it was, and the store
/// free for the next capture.
/// </summary>
public sealed class NodeCaptureRouteTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-capture-route-" + Guid.NewGuid().ToString("N")[..12]);
    private SidusServer _server = null!;
    private string _version = null!;

    private string Http => $"http://127.0.0.1:{_server.HttpEndpoint.Port}";

    public async Task InitializeAsync()
    {
        var root = Path.Combine(_home, "image-root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/motd"), "the image's motd\n");
        using (var repository = Repository.Open(_home))
        {
            _version = new ImageStore(repository).ImportDirectory("demo", root, "demo", null, CancellationToken.None).Id.ToString();
        }

        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(async e =>
            {
                await e.AddNodeAsync(new Node { Name = "n1", Macs = [ServerFixture.Mac(1)], Ip = IPAddress.Parse("127.0.0.1") });
                await e.AddNodeAsync(new Node { Name = "n2", Macs = [ServerFixture.Mac(2)], Ip = IPAddress.Parse("127.0.0.2") });
            });
            // What the node's agent reports as it boots: the version under its overlay.
            await inventory.RecordBootEventAsync(new BootEvent(ServerFixture.Mac(1), BootStage.Root, DateTimeOffset.UtcNow, "shared root", "n1") { Image = _version });
        }

        _server = await ServerFixture.StartHttpOnlyAsync(_home);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task TheNodeWithItsJob_MakesTheVersion_AnotherNodeOrNoCredential_Refused()
    {
        var at = await GiveJobAsync();
        var body = OverlayStream("the node's motd\n");
        var other = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(2), _version, from: "127.0.0.2");
        var (status, _, _) = await Tools.CurlAsync(Route(at), ["--interface", "127.0.0.2", .. NodeSessions.Bearer(other), "--data-binary", "@" + body]);
        Assert.Equal(403, status);
        (status, _, _) = await Tools.CurlAsync(Route(at), "--data-binary", "@" + body);
        Assert.Equal(401, status);
        Assert.Equal(1, Head().Sequence);

        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), _version);
        (status, var answer, _) = await Tools.CurlAsync(Route(at), [.. NodeSessions.Bearer(session), "--data-binary", "@" + body]);
        Assert.True(status == 200, Encoding.UTF8.GetString(answer));
        Assert.Contains("demo@2", Encoding.UTF8.GetString(answer), StringComparison.Ordinal);
        Assert.Equal(2, Head().Sequence);
    }

    [Fact]
    public async Task AnUploadThatStalls_Is408_NothingRecorded_AndTheNextCaptureGoesThrough()
    {
        var at = await GiveJobAsync();
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), _version);
        var body = await File.ReadAllBytesAsync(OverlayStream("the node's motd\n"));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.HttpEndpoint.Port);
        var stream = client.GetStream();
        var head = $"POST {new Uri(Route(at)).PathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {NodeCredentials.Authorization(session)}\r\n" +
                   $"Content-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
        // Then nothing: Kestrel cuts a body slower than its minimum rate, after its grace period.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var answer = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync(limit.Token);
        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        Assert.Contains("stalled", answer, StringComparison.Ordinal);
        Assert.Contains("nothing was recorded", answer, StringComparison.Ordinal);
        Assert.Equal(1, Head().Sequence);

        var (status, text, _) = await Tools.CurlAsync(Route(at), [.. NodeSessions.Bearer(session), "--data-binary", "@" + OverlayStream("the node's motd\n")]);
        Assert.True(status == 200, Encoding.UTF8.GetString(text));
        Assert.Equal(2, Head().Sequence);
    }

    [Fact]
    public async Task AStreamThatIsNoWalkers_Is422_NothingRecorded()
    {
        var at = await GiveJobAsync();
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), _version);
        var junk = Path.Combine(_home, "junk");
        await File.WriteAllBytesAsync(junk, Encoding.UTF8.GetBytes("GET / HTTP/1.0\r\n\r\n" + new string('x', 5000)));
        var (status, text, _) = await Tools.CurlAsync(Route(at), [.. NodeSessions.Bearer(session), "--data-binary", "@" + junk]);
        Assert.True(status == 422, $"{status}: {Encoding.UTF8.GetString(text)}");
        Assert.Equal(1, Head().Sequence);
    }

    private string Route(long at) => Http + NodeJob.CaptureRoute(ServerFixture.Mac(1).ToString(), at);

    /// <summary>A capture job for n1, as `sidus node capture n1` gives it; its time.</summary>
    private async Task<long> GiveJobAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var at = now.ToUnixTimeMilliseconds();
        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.EditAsync(e => e.RequestJobAsync("n1", new NodeJob(NodeJob.Capture, at).Format(), now));
        return at;
    }

    /// <summary>The agent's upload of an upper layer that replaces /etc/motd with MOTD: its file.</summary>
    private string OverlayStream(string motd)
    {
        var upper = Path.Combine(_home, "upper-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(upper, "etc"));
        File.WriteAllText(Path.Combine(upper, "etc/motd"), motd);
        var request = new MemoryStream();
        CaptureProtocol.WriteRequest(request, new CaptureRequest([.. CaptureExcludes.Defaults.Select(d => d.Path)], DryRun: false, SendAll: true));
        request.Position = 0;
        var file = upper + ".stream";
        using (var output = File.Create(file))
        {
            var code = new CaptureWalker(request, output, upper, statePath: null, TextWriter.Null).Run(CancellationToken.None);
            Assert.Equal(0, code);
        }

        return file;
    }

    private Sidus.Store.Trees.Commit Head()
    {
        using var repository = Repository.Open(_home);
        return repository.ReadCommit(repository.Refs.Head("demo")!.Value);
    }
}
