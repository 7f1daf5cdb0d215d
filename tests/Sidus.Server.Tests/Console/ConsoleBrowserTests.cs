using System.Text.RegularExpressions;
using OpenQA.Selenium;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Store;
using Sidus.Testing;
using Sidus.Wire.Contracts;
using Xunit.Abstractions;

namespace Sidus.Server.Tests;

/// <summary>
/// The web console in a real headless Chromium: the real `sidus serve` (DHCP full on a bridge) in its namespace, the
/// admin's browser in a namespace of its own on the same bridge, and a node in a third, booting its way through as
/// far as HTTP goes: udhcpc with iPXE's options (dhcp), curl for its boot script (script) and its kernel (kernel), a
/// claimed session posting the agent's events (agent, root, up). The nodes page shows each stage as it happens.
/// </summary>
[Collection(ServeDhcpCollection.Name)]
public sealed partial class ConsoleBrowserTests(ITestOutputHelper output) : IDisposable
{
    private const string NodeMac = "02:00:00:00:44:01";
    private const string OtherMac = "02:00:00:00:44:02";
    private const string AdminMac = "02:00:00:00:44:09";
    private const string AdminAddress = "10.78.0.9";
    private const string Console = $"http://{ServeDhcpLab.ServerAddress}";

    /// <summary>Text meant to run in the admin's browser if the console put it in as markup.</summary>
    private const string Hostile = "<img src=x id=pwned onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>\"'&";

    /// <summary>iPXE's DHCP request: a PXE client with user class "iPXE".</summary>
    private static readonly string[] Ipxe = ["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000", "-x", "0x4d:69505845"];

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly ServeDhcpLab _lab = new();

    public void Dispose()
    {
        // What the server said, for a failure's story (its log is in memory only).
        output.WriteLine(_lab.ServerLog);
        _lab.Dispose();
    }

    [Fact]
    public async Task SignIn_WrongTokenRefused_RightTokenShowsTheNodes()
    {
        var token = await StartAsync();
        using var browser = await BrowserAsync();

        browser.Go(Console + "/");
        await browser.WaitAsync(d => d.Url.Contains("/console/sign-in", StringComparison.Ordinal), "the sign-in page");
        browser.SignIn(token[..^4] + "AAAA");
        await browser.WaitAsync(d => d.FindElements(By.Id("sign-in-error")).Count == 1, "the refusal");
        Assert.Contains("Not signed in: the admin token is not valid (unknown or revoked)", browser.Driver.FindElement(By.Id("sign-in-error")).Text, StringComparison.Ordinal);
        Assert.Empty(browser.Driver.FindElements(By.Id("nodes")));
        Assert.Contains("Console: sign-in from " + AdminAddress + " refused", _lab.ServerLog, StringComparison.Ordinal);

        browser.SignIn(token);
        await browser.WaitAsync(d => d.FindElements(By.Id("nodes")).Count == 1, "the nodes page");
        Assert.Equal("Nodes", browser.Driver.FindElement(By.TagName("h1")).Text);
        Assert.Equal(["web1", "web2"], browser.Driver.FindElements(By.CssSelector("#nodes tbody tr th a")).Select(a => a.Text));
        Assert.Equal("never", Stage(browser, "web1"));

        // The session cookie is not the script's to read (HttpOnly); the token is nowhere in the page.
        Assert.DoesNotContain("sidus_console", (string)browser.Script("return document.cookie")!, StringComparison.Ordinal);
        Assert.DoesNotContain(token, browser.Driver.PageSource, StringComparison.Ordinal);
        browser.Screenshot("signed-in");

        // Signing out ends the session: the next page asks for the token again.
        browser.Driver.FindElement(By.CssSelector("form.signout button")).Click();
        await browser.WaitAsync(d => d.Url.Contains("/console/sign-in", StringComparison.Ordinal), "the sign-in page after signing out");
        browser.Go(Console + "/console/images");
        await browser.WaitAsync(d => d.FindElements(By.Id("token")).Count == 1, "the sign-in form for a signed-out browser");
    }

    [Fact]
    public async Task NodeBooting_ItsStagesShowLiveOnTheNodesPage()
    {
        var token = await StartAsync();
        using var browser = await SignedInAsync(token);
        await browser.WaitAsync(d => d.FindElement(By.Id("live")).GetAttribute("data-connected") == "true", "the live stream connected");

        // Filtered to group rack1: web2 is not listed; the marker shows the page is never reloaded from here on.
        browser.Go(Console + "/console/nodes?group=rack1");
        await browser.WaitAsync(d => d.FindElement(By.Id("live")).GetAttribute("data-connected") == "true", "the live stream connected");
        Assert.Equal(["web1"], browser.Driver.FindElements(By.CssSelector("#nodes tbody tr th a")).Select(a => a.Text));
        browser.Script("window.sidusNotReloaded = true");

        var node = _lab.AddClient(NodeMac);
        var lease = DhcpClients.Udhcpc(_lab, node, Ipxe);
        await browser.WaitAsync(d => Stage(browser, "web1") == "dhcp", "web1 at stage dhcp");

        node.Ip("addr", "replace", lease.Address + "/24", "dev", DhcpClients.Interface);
        var script = BootableRoot.ScriptWhenReady(() => Curl(node, NodeRoutes.Script(NodeMac.Replace(':', '-'))).Body);
        var kernel = KernelUrl().Match(script).Groups[1].Value;
        Assert.True(kernel.Length > 0, "no kernel URL in the node's script:\n" + script);
        await browser.WaitAsync(d => Stage(browser, "web1") == "script", "web1 at stage script");

        Assert.Equal(200, Curl(node, kernel, "-o", "/dev/null").Status);
        await browser.WaitAsync(d => Stage(browser, "web1") == "kernel", "web1 at stage kernel");

        var (claimed, session) = Curl(node, NodeRoutes.Claim, "-X", "POST", "--data-binary", Ticket().Match(kernel).Groups[1].Value);
        Assert.Equal(200, claimed);
        foreach (var (stage, detail) in new[] { ("agent", "sidus-agent 1.0"), ("root", "ram root synced"), ("up", "login prompt") })
        {
            Assert.Equal(202, Curl(node, NodeRoutes.Events(NodeMac), "-X", "POST", "-H", "Authorization: " + NodeCredentials.Authorization(session.Trim()),
                "--data", $"stage={stage}&detail={Uri.EscapeDataString(detail)}").Status);
            await browser.WaitAsync(d => Stage(browser, "web1") == stage, $"web1 at stage {stage}");
            Assert.Equal(detail, Row(browser, "web1").FindElement(By.CssSelector(".detail")).Text);
        }

        var timings = Row(browser, "web1").FindElements(By.CssSelector(".timings li .stage-name")).Select(e => e.Text).ToList();
        Assert.Equal(["dhcp", "script", "kernel", "agent", "root", "up"], timings);
        Assert.Equal(true, browser.Script("return window.sidusNotReloaded === true"));
        var shot = browser.Screenshot("node-booted-live");
        Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot is nearly empty");

        // Filtered by state: "up" lists web1 alone; when web1 then reports an error, its row leaves the view live.
        browser.Go(Console + "/console/nodes?state=up");
        await browser.WaitAsync(d => d.FindElement(By.Id("live")).GetAttribute("data-connected") == "true", "the live stream connected");
        Assert.Equal(["web1"], Visible(browser));
        Assert.Equal(202, Curl(node, NodeRoutes.Events(NodeMac), "-X", "POST", "-H", "Authorization: " + NodeCredentials.Authorization(session.Trim()),
            "--data", "stage=error&detail=disk%20failed").Status);
        await browser.WaitAsync(d => Visible(browser).Count == 0 && d.FindElement(By.Id("shown")).Text == "0", "web1 hidden once it is no longer up");

        // The node's page: its boot as a timeline, its settings with their origin, its events; a new event appears live.
        browser.Go(Console + "/console/nodes");
        Row(browser, "web1").FindElement(By.CssSelector("th a")).Click();
        await browser.WaitAsync(d => d.FindElement(By.TagName("h1")).Text == "Node web1", "web1's page");
        await browser.WaitAsync(d => d.FindElement(By.Id("live")).GetAttribute("data-connected") == "true", "the node page's live stream connected");
        string[] stages = ["dhcp", "script", "kernel", "agent", "root", "up", "error"];
        Assert.Equal(stages, browser.Driver.FindElements(By.CssSelector("ol.timeline .badge")).Select(e => e.Text));
        var settings = browser.Driver.FindElement(By.Id("settings")).FindElement(By.XPath("following-sibling::table")).Text;
        Assert.Contains("image deb group:rack1", settings, StringComparison.Ordinal);
        Assert.Contains("mode ram node", settings, StringComparison.Ordinal);
        Assert.Contains("login prompt", browser.Driver.FindElement(By.Id("recent-events")).Text, StringComparison.Ordinal);
        Assert.Contains("/etc/hostname", browser.Driver.FindElement(By.Id("override-files")).Text, StringComparison.Ordinal);
        browser.Script("window.sidusNotReloaded = true");
        Assert.Equal(202, Curl(node, NodeRoutes.Events(NodeMac), "-X", "POST", "-H", "Authorization: " + NodeCredentials.Authorization(session.Trim()),
            "--data", "stage=error&detail=still%20failing").Status);
        await browser.WaitAsync(d => d.FindElements(By.CssSelector("ol.timeline .badge")).Count == stages.Length + 1, "the new event in the node's timeline");
        Assert.Contains("still failing", browser.Driver.FindElement(By.CssSelector("#recent-events tbody tr")).Text, StringComparison.Ordinal);
        Assert.Equal(true, browser.Script("return window.sidusNotReloaded === true"));
        browser.Screenshot("node-page");

        // Filtered by state: "error" lists web1 alone, "never" web2 alone.
        browser.Go(Console + "/console/nodes?state=error");
        Assert.Equal(["web1"], Visible(browser));
        browser.Go(Console + "/console/nodes?state=never");
        Assert.Equal(["web2"], Visible(browser));
    }

    [Fact]
    public async Task HostileEventTextAndTags_AreShownAsText_NeverRun()
    {
        var token = await StartAsync();
        await _lab.SidusAsync("node", "set", "web1", "--tag", "note=" + Hostile);
        using var browser = await SignedInAsync(token);
        await browser.WaitAsync(d => d.FindElement(By.Id("live")).GetAttribute("data-connected") == "true", "the live stream connected");
        var title = browser.Driver.Title;

        var node = _lab.AddClient(NodeMac);
        var lease = DhcpClients.Udhcpc(_lab, node, Ipxe);
        node.Ip("addr", "replace", lease.Address + "/24", "dev", DhcpClients.Interface);
        var script = BootableRoot.ScriptWhenReady(() => Curl(node, NodeRoutes.Script(NodeMac.Replace(':', '-'))).Body);
        var (claimed, session) = Curl(node, NodeRoutes.Claim, "-X", "POST", "--data-binary", Ticket().Match(script).Groups[1].Value);
        Assert.Equal(200, claimed);
        Assert.Equal(202, Curl(node, NodeRoutes.Events(NodeMac), "-X", "POST", "-H", "Authorization: " + NodeCredentials.Authorization(session.Trim()),
            "--data", "stage=agent&detail=" + Uri.EscapeDataString(Hostile)).Status);

        // Live: the text arrives through the stream and is put in as text.
        await browser.WaitAsync(d => Stage(browser, "web1") == "agent", "web1 at stage agent");
        Assert.Equal(Hostile, Row(browser, "web1").FindElement(By.CssSelector(".detail")).Text);
        AssertNothingRan(browser, title);

        // Rendered by the server: the nodes page again, and the node's page with the tag and the event.
        browser.Go(Console + "/console/nodes");
        await browser.WaitAsync(d => Stage(browser, "web1") == "agent", "the reloaded nodes page");
        Assert.Equal(Hostile, Row(browser, "web1").FindElement(By.CssSelector(".detail")).Text);
        browser.Go(Console + "/console/nodes/web1");
        await browser.WaitAsync(d => d.FindElement(By.TagName("h1")).Text == "Node web1", "web1's page");
        Assert.Contains("tag note " + Hostile + " node", browser.Driver.FindElement(By.Id("settings")).FindElement(By.XPath("following-sibling::table")).Text, StringComparison.Ordinal);
        Assert.Contains(Hostile, browser.Driver.FindElement(By.Id("recent-events")).Text, StringComparison.Ordinal);
        AssertNothingRan(browser, "Node web1 · Sidus");
        Assert.Contains("&lt;img src=x id=pwned", browser.Driver.PageSource, StringComparison.Ordinal);
        browser.Screenshot("hostile-text");
    }

    private static void AssertNothingRan(ConsoleBrowser browser, string title)
    {
        Assert.Empty(browser.Driver.FindElements(By.Id("pwned")));
        Assert.Empty(browser.Driver.FindElements(By.CssSelector("main script, main img")));
        Assert.Equal(title, browser.Driver.Title);
    }

    private static List<string> Visible(ConsoleBrowser browser) =>
        [.. browser.Driver.FindElements(By.CssSelector("#nodes tbody tr")).Where(r => r.Displayed).Select(r => r.GetAttribute("data-node")!)];

    private static IWebElement Row(ConsoleBrowser browser, string node) =>
        browser.Driver.FindElements(By.CssSelector("#nodes tbody tr")).Single(r => r.GetAttribute("data-node") == node);

    private static string Stage(ConsoleBrowser browser, string node) => Row(browser, node).FindElement(By.CssSelector(".stage .badge")).Text;

    private async Task<ConsoleBrowser> BrowserAsync() =>
        await ConsoleBrowser.StartAsync(_lab.AddClient(AdminMac, AdminAddress + "/24"), output);

    private async Task<ConsoleBrowser> SignedInAsync(string token)
    {
        var browser = await BrowserAsync();
        try
        {
            browser.Go(Console + "/");
            await browser.WaitAsync(d => d.FindElements(By.Id("token")).Count == 1, "the sign-in form");
            browser.SignIn(token);
            await browser.WaitAsync(d => d.FindElements(By.Id("nodes")).Count == 1, "the nodes page");
            return browser;
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    /// <summary>A home with one image (a kernel in /boot), web1 in rack1 and web2 in rack2 booting it, an admin token; then serve.</summary>
    private async Task<string> StartAsync()
    {
        var root = Path.Combine(_lab.Home, "root");
        await BootableRoot.WriteAsync(root);
        using (var repository = Repository.Open(_lab.Home))
        {
            new ImageStore(repository).ImportDirectory("deb", root, "console test", null, CancellationToken.None);
        }

        Directory.Delete(root, recursive: true);
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_lab.Home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(async e =>
            {
                await e.AddGroupAsync(new Sidus.Nodes.Group { Name = "rack1", Settings = new NodeSettings { Image = "deb" } });
                await e.AddGroupAsync(new Sidus.Nodes.Group { Name = "rack2", Settings = new NodeSettings { Image = "deb" } });
                await e.AddNodeAsync(new Node { Name = "web1", Macs = [MacAddress.Parse(NodeMac)], Groups = ["rack1"], Settings = new NodeSettings { Mode = BootMode.Ram } });
                await e.AddNodeAsync(new Node { Name = "web2", Macs = [MacAddress.Parse(OtherMac)], Groups = ["rack2"], Settings = new NodeSettings { Mode = BootMode.Ram } });
            });
        }

        var token = (await _lab.SidusAsync("token", "create", "console")).Text.Trim();
        Assert.StartsWith("sidus_", token, StringComparison.Ordinal);
        await _lab.StartServeAsync();
        return token;
    }

    /// <summary>curl from inside CLIENT's namespace to the server: the status and the body.</summary>
    private static (int Status, string Body) Curl(NetworkNamespace client, string path, params string[] extra)
    {
        var result = client.Run(Tool.Require("curl", "curl"),
            ["-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}", .. extra, path.StartsWith("http", StringComparison.Ordinal) ? path : Console + path], Limit);
        Assert.True(result.Succeeded, $"curl {path} failed: {result}");
        var text = result.StandardOutput;
        var cut = text.LastIndexOf('\n');
        return (int.Parse(text[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture), text[..cut]);
    }

    [GeneratedRegex(@"kernel (/images/[0-9a-f]+/sidus-vmlinuz\?ticket=[A-Za-z0-9_-]+)")]
    private static partial Regex KernelUrl();

    [GeneratedRegex(@"vmlinuz\?ticket=([A-Za-z0-9_-]+)")]
    private static partial Regex Ticket();
}
