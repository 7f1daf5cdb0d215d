using Sidus.Nodes;
using Sidus.Nodes.Access;
using Sidus.Server.Inventory;
using Sidus.Server.WebConsole;

namespace Sidus.Server.Tests;

/// <summary>The console's pieces on their own: the encoding writer, sessions, the redirect rule, the live feed's bounds.</summary>
public sealed class ConsolePartsTests
{
    [Fact]
    public void Html_EncodesEveryHole_KeepsMarkupAndLetters()
    {
        var name = "<script>alert('x')</script>&\"";
        var html = new Html().Add($"<td title=\"{name}\">{name} {42} {new Markup("<b>ok</b>")} é 名前</td>").ToString();
        Assert.Equal("<td title=\"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot; 42 <b>ok</b> é 名前</td>", html);
        Assert.Equal("<p>&lt;img&gt;</p>", Html.Of($"<p>{"<img>"}</p>").Value);
    }

    [Theory]
    [InlineData("/console/images/demo", "/console/images/demo")]
    [InlineData("/console/nodes?group=a", "/console/nodes?group=a")]
    [InlineData("//evil.example/console/", "/console/nodes")]
    [InlineData("https://evil.example/", "/console/nodes")]
    [InlineData("/console//evil.example", "/console/nodes")]
    [InlineData("/console/\\evil", "/console/nodes")]
    [InlineData("/console/sign-in", "/console/nodes")]
    [InlineData("/api/status", "/console/nodes")]
    [InlineData(null, "/console/nodes")]
    public void SafeNext_OnlyConsolePages(string? next, string expected) => Assert.Equal(expected, ConsoleAccess.SafeNext(next));

    [Fact]
    public void Sessions_EndWithTheirTokenRevokedReplacedOrExpired()
    {
        var now = DateTimeOffset.UtcNow;
        var token = new AdminToken("alice", AdminTokenSecret.Hash("sidus_a"), now, now.AddHours(1), null);
        var sessions = new ConsoleSessions();
        var id = sessions.Open(token, now);
        Assert.Equal("alice", sessions.Find(id, [token], now)?.TokenName);
        Assert.Null(sessions.Find(id + "x", [token], now));
        Assert.Null(sessions.Find(null, [token], now));

        // The session ends when the token does (an hour here, less than the 12-hour lifetime).
        Assert.Null(sessions.Find(id, [token], now.AddHours(1)));
        var other = sessions.Open(token, now);
        Assert.Null(sessions.Find(other, [], now));
        var third = sessions.Open(token, now);
        Assert.Null(sessions.Find(third, [token with { Hash = AdminTokenSecret.Hash("sidus_b") }], now));
        var fourth = sessions.Open(token, now);
        sessions.Close(fourth);
        Assert.Null(sessions.Find(fourth, [token], now));
    }

    [Fact]
    public void Sessions_Bounded_OldestGoesFirst()
    {
        var now = DateTimeOffset.UtcNow;
        var token = new AdminToken("bob", AdminTokenSecret.Hash("sidus_b"), now, null, null);
        var sessions = new ConsoleSessions();
        var first = sessions.Open(token, now);
        for (var i = 1; i <= ConsoleSessions.MaxSessions; i++)
        {
            sessions.Open(token, now.AddSeconds(i));
        }

        Assert.Equal(ConsoleSessions.MaxSessions, sessions.Count);
        Assert.Null(sessions.Find(first, [token], now.AddSeconds(1)));
    }

    [Fact]
    public async Task Feed_SlowWatcherLosesItsOldest_WatchersBounded()
    {
        var feed = new BootEventFeed();
        using var watcher = feed.Watch()!;
        var mac = MacAddress.Parse("52:54:00:00:01:01");
        for (var i = 0; i < BootEventFeed.QueueLength + 10; i++)
        {
            feed.Publish(new FedBootEvent("n1", mac, BootStage.Agent, DateTimeOffset.UnixEpoch.AddSeconds(i), i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var got = new List<string?>();
        while (watcher.Events.TryRead(out var e))
        {
            got.Add(e.Detail);
        }

        Assert.Equal(BootEventFeed.QueueLength, got.Count);
        Assert.Equal("10", got[0]);
        Assert.Equal((BootEventFeed.QueueLength + 9).ToString(System.Globalization.CultureInfo.InvariantCulture), got[^1]);

        var more = Enumerable.Range(1, BootEventFeed.MaxWatchers - 1).Select(_ => feed.Watch()).ToList();
        Assert.All(more, Assert.NotNull);
        Assert.Null(feed.Watch());
        more[0]!.Dispose();
        using var again = feed.Watch();
        Assert.NotNull(again);
        foreach (var w in more.Skip(1))
        {
            w!.Dispose();
        }

        // A watcher that stopped is told so.
        watcher.Dispose();
        Assert.False(await watcher.Events.WaitToReadAsync());
    }
}
