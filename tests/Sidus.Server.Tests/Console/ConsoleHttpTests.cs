using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Server.WebConsole;
using Sidus.Store;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// The web console over real HTTP with curl: who gets in (a session cookie from the sign-in form, HttpOnly and
/// SameSite=Strict), what a POST from another origin gets (refused), when a session ends (sign-out, a revoked
/// token), the image, diff and store pages, and the live stream's events.
/// </summary>
public sealed partial class ConsoleHttpTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-console-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LogCollector _log = new();
    private InventoryStore _inventory = null!;
    private SidusServer _server = null!;
    private string _token = "";
    private string _version = "";

    private string Http => $"http://127.0.0.1:{_server.HttpEndpoint.Port}";

    private string Origin => Http;

    public async Task InitializeAsync()
    {
        // Image demo: @1, then @2 with a file added, one changed and one removed; demo@1 tagged "prod".
        var root = Path.Combine(_home, "root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "motd"), "one\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "old.conf"), "x\n");
        using (var repository = Repository.Open(_home))
        {
            var images = new ImageStore(repository);
            images.ImportDirectory("demo", root, "first", null, CancellationToken.None);
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "motd"), "two\n");
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "added.conf"), "y\n");
            File.Delete(Path.Combine(root, "etc", "old.conf"));
            _version = images.ImportDirectory("demo", root, "second", null, CancellationToken.None).Id.ToString();
        }

        Directory.Delete(root, recursive: true);
        _inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await _inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "n1", Macs = [ServerFixture.Mac(1)], Settings = new NodeSettings { Image = "demo" } }));
        _token = (await _inventory.EditAsync(e => e.AddAdminTokenAsync("admin", DateTimeOffset.UtcNow, null))).Secret;
        var tag = await Tools.SidusAsync(_home, "image", "tag", "demo@1", "prod");
        Assert.True(tag.ExitCode == 0, tag.Err);
        _server = await SidusServer.StartAsync(
            new ServeOptions
            {
                Home = _home,
                Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
                Tftp = new TftpSettings { Enabled = false },
                Nbd = new NbdSettings { Enabled = false },
                InventoryPollInterval = TimeSpan.FromMilliseconds(200),
                Overrides = new OverridesSettings { AllowUnverified = true },
            },
            b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Debug));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _inventory.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task WithoutSession_PagesSendToSignIn_StreamRefused()
    {
        var (root, _, rootHeaders) = await Tools.CurlAsync(Http + "/");
        Assert.Equal(302, root);
        Assert.Contains("location: /console/nodes", rootHeaders, StringComparison.OrdinalIgnoreCase);

        foreach (var page in new[] { "/console/nodes", "/console/nodes/n1", "/console/images", "/console/images/demo", "/console/images/demo/diff?from=1&to=2", "/console/store" })
        {
            var (status, body, headers) = await Tools.CurlAsync(Http + page);
            Assert.Equal(302, status);
            Assert.Contains("location: /console/sign-in?next=" + Uri.EscapeDataString(page), headers, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("n1", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        }

        var (stream, streamBody, _) = await Tools.CurlAsync(Http + "/console/events");
        Assert.Equal(401, stream);
        Assert.Contains("needs a console session", Encoding.UTF8.GetString(streamBody), StringComparison.Ordinal);

        // A made-up cookie is no session; the sign-in page itself and the assets are open.
        Assert.Equal(302, (await Tools.CurlAsync(Http + "/console/nodes", "-b", "sidus_console=" + _token)).Status);
        var (signIn, form, formHeaders) = await Tools.CurlAsync(Http + "/console/sign-in");
        Assert.Equal(200, signIn);
        Assert.Contains("name=\"token\" type=\"password\"", Encoding.UTF8.GetString(form), StringComparison.Ordinal);
        Assert.Contains("content-security-policy: default-src 'none'; style-src 'self'; script-src 'self'", formHeaders, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(200, (await Tools.CurlAsync(Http + ConsoleRoutes.Css)).Status);
        Assert.Equal(200, (await Tools.CurlAsync(Http + ConsoleRoutes.Script)).Status);
    }

    [Fact]
    public async Task SignIn_CookieHttpOnlyStrict_PostsFromElsewhereRefused()
    {
        var form = new[] { "--data-urlencode", "token=" + _token, "--data-urlencode", "next=/console/images" };
        var (noOrigin, body, _) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, form);
        Assert.Equal(403, noOrigin);
        Assert.Contains("no Origin header", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        var (elsewhere, _, elsewhereHeaders) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, [.. form, "-H", "Origin: http://evil.example"]);
        Assert.Equal(403, elsewhere);
        Assert.DoesNotContain("set-cookie", elsewhereHeaders, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(_log.Lines, l => l.Contains("Origin http://evil.example is not this console's", StringComparison.Ordinal));

        var (wrong, wrongBody, wrongHeaders) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn,
            "-H", "Origin: " + Origin, "--data-urlencode", "token=sidus_not-a-token");
        Assert.Equal(403, wrong);
        Assert.Contains("Not signed in: the admin token is not valid (unknown or revoked)", Encoding.UTF8.GetString(wrongBody), StringComparison.Ordinal);
        Assert.DoesNotContain("set-cookie", wrongHeaders, StringComparison.OrdinalIgnoreCase);

        var (ok, _, headers) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, [.. form, "-H", "Origin: " + Origin]);
        Assert.Equal(302, ok);
        Assert.Contains("location: /console/images", headers, StringComparison.OrdinalIgnoreCase);
        var setCookie = headers.Split('\n').Single(l => l.StartsWith("set-cookie:", StringComparison.OrdinalIgnoreCase)).Trim();
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_token[6..], setCookie, StringComparison.Ordinal);
        var cookie = Cookie().Match(setCookie).Groups[1].Value;
        Assert.Contains(_log.Lines, l => l.Contains("Console: token admin signed in from 127.0.0.1", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Lines, l => l.Contains(_token[6..], StringComparison.Ordinal));

        var (page, pageBody, pageHeaders) = await Tools.CurlAsync(Http + "/console/nodes", "-b", cookie);
        Assert.Equal(200, page);
        Assert.Contains("<a href=\"/console/nodes/n1\">n1</a>", Encoding.UTF8.GetString(pageBody), StringComparison.Ordinal);
        Assert.Contains("x-frame-options: DENY", pageHeaders, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("cache-control: no-store", pageHeaders, StringComparison.OrdinalIgnoreCase);

        // Signing out from another origin is refused (the session stays); from the console it ends the session.
        Assert.Equal(403, (await Tools.CurlAsync(Http + ConsoleRoutes.SignOut, "-X", "POST", "-b", cookie, "-H", "Origin: http://evil.example")).Status);
        Assert.Equal(200, (await Tools.CurlAsync(Http + "/console/nodes", "-b", cookie)).Status);
        Assert.Equal(302, (await Tools.CurlAsync(Http + ConsoleRoutes.SignOut, "-X", "POST", "-b", cookie, "-H", "Origin: " + Origin)).Status);
        Assert.Equal(302, (await Tools.CurlAsync(Http + "/console/nodes", "-b", cookie)).Status);

        // Behind a TLS proxy the browser's Origin is https with the same host: accepted, and the cookie is Secure.
        var (proxied, _, proxiedHeaders) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, "-H", "Origin: " + Origin.Replace("http://", "https://", StringComparison.Ordinal),
            "--data-urlencode", "token=" + _token);
        Assert.Equal(302, proxied);
        Assert.Contains("; secure", proxiedHeaders.Split('\n').Single(l => l.StartsWith("set-cookie:", StringComparison.OrdinalIgnoreCase)), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(403, (await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, "-H", "Origin: http://127.0.0.1:1", "--data-urlencode", "token=" + _token)).Status);

        // An open redirect is not on offer: next= elsewhere goes to the nodes page.
        var (_, _, away) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, "-H", "Origin: " + Origin,
            "--data-urlencode", "token=" + _token, "--data-urlencode", "next=//evil.example/x");
        Assert.Contains("location: /console/nodes", away, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Session_EndsWhenItsTokenIsRevoked()
    {
        var cookie = await SignInAsync();
        Assert.Equal(200, (await Tools.CurlAsync(Http + "/console/store", "-b", cookie)).Status);
        var revoke = await Tools.SidusAsync(_home, "token", "revoke", "admin");
        Assert.True(revoke.ExitCode == 0, revoke.Err);
        await Tools.EventuallyAsync(async () => (await Tools.CurlAsync(Http + "/console/store", "-b", cookie)).Status == 302,
            TimeSpan.FromSeconds(10), "the revoked token's session ended");
        Assert.Equal(401, (await Tools.CurlAsync(Http + "/console/events", "-b", cookie)).Status);
    }

    [Fact]
    public async Task Images_VersionsTagsDiffAndStoreUse()
    {
        var cookie = await SignInAsync();
        var images = await PageAsync("/console/images", cookie);
        Assert.Matches(@"<a href=""/console/images/demo"">demo</a></th><td>@2 <code>[0-9a-f]{12}</code></td><td>2</td><td>2</td>", images);
        Assert.Contains("<td>prod</td><td>1</td>", images, StringComparison.Ordinal);

        var versions = await PageAsync("/console/images/demo", cookie);
        Assert.Contains("<th scope=\"row\">@2</th>", versions, StringComparison.Ordinal);
        Assert.Matches(@"<th scope=""row"">@1</th>.*<td>prod</td><td>first</td>", versions);
        Assert.Contains("<option value=\"1\" selected>@1</option>", versions, StringComparison.Ordinal);

        // The same changes `sidus image diff` finds.
        var diff = await PageAsync("/console/images/demo/diff?from=1&to=2", cookie);
        var cli = await Tools.SidusAsync(_home, "image", "diff", "demo@1", "demo@2", "--json");
        Assert.True(cli.ExitCode == 0, cli.Err);
        var expected = JsonDocument.Parse(cli.Out).RootElement.EnumerateArray()
            .Select(c => (c.GetProperty("change").GetString()!, c.GetProperty("path").GetString()!)).ToList();
        Assert.Contains(("added", "/etc/added.conf"), expected);
        Assert.Contains(("removed", "/etc/old.conf"), expected);
        Assert.Contains(("modified", "/etc/motd"), expected);
        var shown = DiffRow().Matches(diff).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(expected.Order(), shown.Order());
        Assert.Contains($"{expected.Count(e => e.Item1 == "added")} added, 1 removed, {expected.Count(e => e.Item1 == "modified")} modified between @1 and @2", diff, StringComparison.Ordinal);

        var store = await PageAsync("/console/store", cookie);
        Assert.Contains("<dt>Images</dt><dd>1</dd>", store, StringComparison.Ordinal);
        Assert.Contains("<dt>Versions</dt><dd>2</dd>", store, StringComparison.Ordinal);

        // A version imported while the server runs is in packs it has not opened yet: shown all the same.
        var root = Path.Combine(_home, "third");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "motd"), "three\n");
        var import = await Tools.SidusAsync(_home, "image", "import", "demo", root);
        Assert.True(import.ExitCode == 0, import.Err);
        Assert.Contains("<th scope=\"row\">@3</th>", await PageAsync("/console/images/demo", cookie), StringComparison.Ordinal);
        Assert.Contains("between @2 and @3", await PageAsync("/console/images/demo/diff?from=2&to=3", cookie), StringComparison.Ordinal);
        Assert.Contains("<dt>Versions</dt><dd>3</dd>", await PageAsync("/console/store", cookie), StringComparison.Ordinal);

        Assert.Equal(404, (await Tools.CurlAsync(Http + "/console/images/nosuch", "-b", cookie)).Status);
        Assert.Equal(404, (await Tools.CurlAsync(Http + "/console/images/demo/diff?from=1&to=9", "-b", cookie)).Status);
        Assert.Equal(404, (await Tools.CurlAsync(Http + "/console/nodes/nosuch", "-b", cookie)).Status);
    }

    [Fact]
    public async Task Stream_SendsEachStoredEvent_AsOneLineOfJson()
    {
        var cookie = await SignInAsync();
        var stream = Tools.RunAsync("curl", ["-sS", "-N", "--max-time", "5", "-b", cookie, Http + "/console/events"]);
        await Tools.EventuallyAsync(() => Task.FromResult(_server.Services.GetService(typeof(Sidus.Server.Inventory.BootEventFeed)) is Sidus.Server.Inventory.BootEventFeed { Watchers: 1 }),
            TimeSpan.FromSeconds(5), "the stream watching");

        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(1), _version);
        var detail = "line one\nline two </script><b>\"x\"</b>";
        Assert.Equal(202, (await Tools.CurlAsync(Http + NodeRoutes.Events(ServerFixture.UrlMac(1)),
            [.. NodeSessions.Bearer(session), "-X", "POST", "--data-urlencode", "stage=agent", "--data-urlencode", "detail=" + detail])).Status);

        var output = Encoding.UTF8.GetString((await stream).Out);
        var data = output.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).ToList();
        var e = JsonDocument.Parse(Assert.Single(data)["data: ".Length..]).RootElement;
        Assert.Equal("n1", e.GetProperty("node").GetString());
        Assert.Equal("agent", e.GetProperty("stage").GetString());
        Assert.Equal("52:54:00:00:01:01", e.GetProperty("mac").GetString());
        Assert.Equal("line one line two </script><b>\"x\"</b>", e.GetProperty("detail").GetString());
        Assert.Contains("event: boot\n", output, StringComparison.Ordinal);
    }

    private async Task<string> SignInAsync()
    {
        var (status, _, headers) = await Tools.CurlAsync(Http + ConsoleRoutes.SignIn, "-H", "Origin: " + Origin, "--data-urlencode", "token=" + _token);
        Assert.Equal(302, status);
        return Cookie().Match(headers).Groups[1].Value;
    }

    private async Task<string> PageAsync(string path, string cookie)
    {
        var (status, body, _) = await Tools.CurlAsync(Http + path, "-b", cookie);
        var text = Encoding.UTF8.GetString(body);
        Assert.True(status == 200, $"{path}: {status}\n{text}");
        return text;
    }

    [GeneratedRegex(@"(sidus_console=[A-Za-z0-9_-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex Cookie();

    [GeneratedRegex(@"<tr class=""change-(\w+)""><td><abbr title=""\w+"">.</abbr></td><td><code>([^<]+)</code>")]
    private static partial Regex DiffRow();
}
