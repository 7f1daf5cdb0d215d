using System.Diagnostics;
using System.Net;
using System.Text;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// `sidus node apply-overrides` against a live server: the real node agent's service (sidus-agent.dll, pointed at a
/// plain directory) waits with its session, the real CLI asks, the agent writes the new layer and answers, the CLI
/// reports it. Then the protocol's refusals over curl.
/// </summary>
public sealed class ApplyOverridesTests : IAsyncLifetime
{
    private const string AnyVersion = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-apply-" + Guid.NewGuid().ToString("N")[..12]);
    private SidusServer _server = null!;

    private string Http => $"http://127.0.0.1:{_server.HttpEndpoint.Port}";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(async e =>
            {
                await e.AddNodeAsync(new Node { Name = "n1", Macs = [ServerFixture.Mac(1)], Ip = IPAddress.Parse("127.0.0.1") });
                await e.AddNodeAsync(new Node { Name = "n2", Macs = [ServerFixture.Mac(2)], Ip = IPAddress.Parse("127.0.0.2") });
            });
        }

        Put("global/etc/motd.tmpl", "first {{ node.name }}\n");
        _server = await ServerFixture.StartHttpOnlyAsync(_home);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private void Put(string relative, string text)
    {
        var path = Path.Combine(_home, "overrides", relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public async Task ApplyOverrides_RealAgentServiceWritesTheNewLayer_CliReportsItsAnswer()
    {
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), AnyVersion);
        var root = Path.Combine(_home, "node-root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        var sessionFile = Path.Combine(_home, "session");
        await File.WriteAllTextAsync(sessionFile, session);
        var agent = await AgentServiceProcess.StartAsync(root, Http, ServerFixture.Mac(1).ToString(), sessionFile);
        try
        {
            // Nothing is applied at start: the agent only learns where requests stand.
            await Task.Delay(1000);
            Assert.False(File.Exists(Path.Combine(root, "etc/motd")), agent.Said);

            Put("global/etc/motd.tmpl", "{{ if node.ip }}second {{ node.name }} at {{ node.ip }}{{ end }}\n");
            var run = await Tools.SidusAsync(_home, "node", "apply-overrides", "n1", "--wait", "30");
            Assert.True(run.ExitCode == 0, run.Text + run.Err + agent.Said);
            Assert.Matches(@"^n1: applied: \d+ files \(\d+\.\d s\)$", run.Text.Trim());
            Assert.Equal("second n1 at 127.0.0.1\n", await File.ReadAllTextAsync(Path.Combine(root, "etc/motd")));
            Assert.Equal("n1\n", await File.ReadAllTextAsync(Path.Combine(root, "etc/hostname")));
            Assert.True(File.Exists(Path.Combine(root, "etc/systemd/system/sidus-agent.service")));

            // Again, as JSON; the same agent (its poll continues from the request it answered).
            Put("global/etc/motd.tmpl", "third\n");
            var again = await Tools.SidusAsync(_home, "node", "apply-overrides", "n1", "--json");
            Assert.True(again.ExitCode == 0, again.Text + again.Err);
            Assert.Contains("\"result\": \"applied: ", again.Text, StringComparison.Ordinal);
            Assert.Equal("third\n", await File.ReadAllTextAsync(Path.Combine(root, "etc/motd")));

            // A template error stops the command before any node is asked.
            Put("global/etc/motd.tmpl", "{{ if node.nmae }}x{{ end }}\n");
            var broken = await Tools.SidusAsync(_home, "node", "apply-overrides", "n1");
            Assert.Equal(1, broken.ExitCode);
            Assert.Contains("unknown variable 'node.nmae'", broken.Err, StringComparison.Ordinal);
            Assert.Contains("no node was asked", broken.Err, StringComparison.Ordinal);
            Assert.Equal("third\n", await File.ReadAllTextAsync(Path.Combine(root, "etc/motd")));
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task ApplyOverrides_NoAgent_NoAnswerInTime_ExitsOne()
    {
        var run = await Tools.SidusAsync(_home, "node", "apply-overrides", "n2", "--wait", "2");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("n2: no answer within 2 s", run.Text, StringComparison.Ordinal);
        Assert.Equal(2, (await Tools.SidusAsync(_home, "node", "apply-overrides", "nosuch")).ExitCode);
    }

    [Fact]
    public async Task Requests_OnlyTheNodesSession_HeldUntilAsked()
    {
        var url = Http + NodeRequests.Poll(ServerFixture.Mac(1).ToString(), null);
        Assert.Equal(401, (await Tools.CurlAsync(url)).Status);
        var other = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(2), AnyVersion, "127.0.0.2");
        Assert.Equal(403, (await Tools.CurlAsync(url, [.. NodeSessions.Bearer(other), "--interface", "127.0.0.2"])).Status);

        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), AnyVersion);
        var start = await Tools.CurlAsync(url, NodeSessions.Bearer(session));
        Assert.Equal(200, start.Status);
        Assert.True(NodeRequests.TryParsePoll(Encoding.UTF8.GetString(start.Body), out var pending, out var at) && pending == NodeRequests.None && at == 0, Encoding.UTF8.GetString(start.Body));
        Assert.Equal(400, (await Tools.CurlAsync(Http + $"/api/nodes/{ServerFixture.Mac(1)}/requests?seen=soon", NodeSessions.Bearer(session))).Status);

        var held = Tools.CurlAsync(Http + NodeRequests.Poll(ServerFixture.Mac(1).ToString(), 0), NodeSessions.Bearer(session));
        await Task.Delay(1500);
        Assert.False(held.IsCompleted, "the poll was answered before anything was asked");
        var asked = DateTimeOffset.UtcNow;
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.RequestOverridesAsync("n1", asked);
        }

        var answer = await held;
        Assert.True(NodeRequests.TryParsePoll(Encoding.UTF8.GetString(answer.Body), out pending, out at) && pending == NodeRequests.Overrides, Encoding.UTF8.GetString(answer.Body));
        Assert.Equal(asked.ToUnixTimeMilliseconds(), at);

        // The answer is kept only for the request it names.
        var post = Http + NodeRequests.Answer(ServerFixture.Mac(1).ToString());
        Assert.Equal(400, (await Tools.CurlAsync(post, [.. NodeSessions.Bearer(session), "--data-binary", "soon applied"])).Status);
        Assert.Equal(204, (await Tools.CurlAsync(post, [.. NodeSessions.Bearer(session), "--data-binary", NodeRequests.FormatAnswer(at - 1, "applied: 1 files")])).Status);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            Assert.Null((await inventory.GetOverridesRequestAsync("n1"))!.AppliedAt);
        }

        Assert.Equal(204, (await Tools.CurlAsync(post, [.. NodeSessions.Bearer(session), "--data-binary", NodeRequests.FormatAnswer(at, "applied: 9 files\u001b[2J")])).Status);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            var record = (await inventory.GetOverridesRequestAsync("n1"))!;
            Assert.NotNull(record.AppliedAt);
            Assert.DoesNotContain('\u001b', record.Result!);
        }
    }

    /// <summary>
    /// A job given during the node's boot before its service first polled (`sidus node capture` right after "up") is
    /// carried out: the first poll starts the service just before it. One older than the boot's session, or answered,
    /// stays behind.
    /// </summary>
    [Fact]
    public async Task Requests_JobGivenBeforeTheServiceWaits_FirstPollStartsJustBeforeIt()
    {
        var mac = ServerFixture.Mac(1).ToString();
        var before = await GiveJobAsync();
        await Task.Delay(50);
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), AnyVersion);
        Assert.Equal((NodeRequests.None, before), await FirstPollAsync(session, before));

        await Task.Delay(50);
        var during = await GiveJobAsync();
        Assert.Equal((NodeRequests.None, during - 1), await FirstPollAsync(session, during - 1));
        var next = await Tools.CurlAsync(Http + NodeRequests.Poll(mac, during - 1), NodeSessions.Bearer(session));
        Assert.True(NodeRequests.TryParsePoll(Encoding.UTF8.GetString(next.Body), out var kind, out var at), Encoding.UTF8.GetString(next.Body));
        Assert.Equal((NodeRequests.Job, during), (kind, at));

        var answered = await Tools.CurlAsync(Http + NodeJob.Route(mac), [.. NodeSessions.Bearer(session), "--data-binary", NodeJob.FormatResult(during, true, "{}")]);
        Assert.Equal(204, answered.Status);
        Assert.Equal((NodeRequests.None, during), await FirstPollAsync(session, during));
    }

    /// <summary>Gives n1 a drift job now; its time.</summary>
    private async Task<long> GiveJobAsync()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.RequestJobsAsync(new Dictionary<string, string> { ["n1"] = new NodeJob(NodeJob.Drift, at.ToUnixTimeMilliseconds()).Format() }, at);
        return at.ToUnixTimeMilliseconds();
    }

    /// <summary>The first poll's answer once the server has reloaded the inventory (it answers EXPECTED; else the last).</summary>
    private async Task<(string Kind, long At)> FirstPollAsync(string session, long expected)
    {
        var answer = (Kind: string.Empty, At: -1L);
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); DateTime.UtcNow < deadline && answer.At != expected; await Task.Delay(100))
        {
            var poll = await Tools.CurlAsync(Http + NodeRequests.Poll(ServerFixture.Mac(1).ToString(), null), NodeSessions.Bearer(session));
            Assert.True(NodeRequests.TryParsePoll(Encoding.UTF8.GetString(poll.Body), out var kind, out var at), Encoding.UTF8.GetString(poll.Body));
            answer = (kind, at);
        }

        return answer;
    }
}
