using System.Text.Json;

namespace Sidus.Nodes.Tests;

public class CliTests
{
    private static JsonElement Json(SidusProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Err);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    [Fact]
    public async Task NodeAdd_ListShowSetRm_EndToEnd()
    {
        using var sidus = new SidusProcess();
        await sidus.ImportImageAsync("debian", 4);
        Assert.Equal(0, (await sidus.RunAsync("group", "add", "compute", "--image", "debian@3", "--mode", "shared", "--tag", "role=compute")).ExitCode);
        var add = await sidus.RunAsync("node", "add", "node001", "--mac", "52-54-00-AA-00-01", "--mac", "525400aa0002", "--ip", "10.0.0.10", "--group", "compute", "--kernel-args", "console=ttyS0");
        Assert.True(add.ExitCode == 0, add.Err);
        Assert.Contains("node001", add.Out, StringComparison.Ordinal);

        var show = Json(await sidus.RunAsync("node", "show", "node001", "--json"));
        Assert.Equal(["52:54:00:aa:00:01", "52:54:00:aa:00:02"], show.GetProperty("macs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("debian@3", show.GetProperty("effective").GetProperty("image").GetProperty("value").GetString());
        Assert.Equal("group:compute", show.GetProperty("effective").GetProperty("image").GetProperty("from").GetString());
        Assert.Equal("node", show.GetProperty("effective").GetProperty("kernelArgs").GetProperty("from").GetString());

        // Lookup by MAC works too; the text form shows origins.
        var text = await sidus.RunAsync("node", "show", "52:54:00:aa:00:02");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("group:compute", text.Out, StringComparison.Ordinal);

        var set = await sidus.RunAsync("node", "set", "node001", "--image", "debian@4", "--tag", "rack=r2", "--remove-mac", "52:54:00:aa:00:02", "--clear-ip");
        Assert.True(set.ExitCode == 0, set.Err);
        show = Json(await sidus.RunAsync("node", "show", "node001", "--json"));
        Assert.Equal("node", show.GetProperty("effective").GetProperty("image").GetProperty("from").GetString());
        Assert.Equal(JsonValueKind.Null, show.GetProperty("ip").ValueKind);
        Assert.Equal(1, show.GetProperty("macs").GetArrayLength());
        Assert.Equal("r2", show.GetProperty("settings").GetProperty("tags").GetProperty("rack").GetString());

        var set2 = await sidus.RunAsync("node", "set", "node001", "--clear-image");
        Assert.Equal(0, set2.ExitCode);
        show = Json(await sidus.RunAsync("node", "show", "node001", "--json"));
        Assert.Equal("group:compute", show.GetProperty("effective").GetProperty("image").GetProperty("from").GetString());

        var list = Json(await sidus.RunAsync("node", "list", "--group", "compute", "--json"));
        Assert.Equal("node001", Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());

        Assert.Equal(0, (await sidus.RunAsync("node", "rm", "node001")).ExitCode);
        Assert.Equal(2, (await sidus.RunAsync("node", "show", "node001")).ExitCode);
        Assert.Equal(0, Json(await sidus.RunAsync("node", "list", "--json")).GetArrayLength());
    }

    [Theory]
    [InlineData(1, "node", "add", "bad_name", "--mac", "52:54:00:00:00:09")]
    [InlineData(1, "node", "add", "n9", "--mac", "52:54:00:00:00")]
    [InlineData(1, "node", "add", "n9", "--mac", "52:54:00:00:00:09", "--mode", "turbo")]
    [InlineData(1, "node", "add", "n9", "--mac", "52:54:00:00:00:09", "--kernel-args", "x ${net0/ip}")]
    [InlineData(1, "node", "add", "n9", "--mac", "52:54:00:00:00:09", "--image", "a@b:c")]
    [InlineData(1, "node", "set", "n1")]
    [InlineData(2, "node", "add", "n9", "--mac", "52:54:00:00:00:09", "--group", "nosuch")]
    [InlineData(2, "node", "set", "nosuch", "--image", "x")]
    [InlineData(2, "node", "rm", "nosuch")]
    [InlineData(2, "group", "rm", "nosuch")]
    [InlineData(3, "node", "add", "n2", "--mac", "52:54:00:00:00:01")]
    [InlineData(3, "node", "add", "n2", "--mac", "52:54:00:00:00:02", "--ip", "10.0.0.1")]
    [InlineData(3, "node", "add", "n1", "--mac", "52:54:00:00:00:02")]
    [InlineData(3, "group", "rm", "g")]
    [InlineData(3, "group", "add", "g")]
    public async Task Verbs_BadInput_ExitCodeAndMessage(int expected, params string[] args)
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("group", "add", "g")).ExitCode);
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--ip", "10.0.0.1", "--group", "g")).ExitCode);
        var r = await sidus.RunAsync(args);
        Assert.True(expected == r.ExitCode, $"exit {r.ExitCode}, stderr: {r.Err}");
        Assert.False(string.IsNullOrWhiteSpace(r.Err), "a refusal must say why on stderr");
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        if (expected == 3 && args[1] == "add" && args[0] == "node")
        {
            Assert.Contains("'n1'", r.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NodeAddRange_MacFileAndIps_AllOrNothing()
    {
        using var sidus = new SidusProcess();
        var macFile = Path.Combine(sidus.Home, "macs.txt");
        await File.WriteAllLinesAsync(macFile, Enumerable.Range(1, 12).Select(i => $"52:54:00:00:10:{i:x2}"));

        // In a declared /16, counting on past 10.0.0.255 is right (without it .255 is refused: ValueRefusalTests).
        Assert.Equal(0, (await sidus.RunAsync("network", "set", "lab", "--subnet", "10.0.0.0/16")).ExitCode);
        var r = await sidus.RunAsync("node", "add", "--range", "node[001-012]", "--mac-from", macFile, "--ip-from", "10.0.0.250");
        Assert.True(r.ExitCode == 0, r.Err);
        var list = Json(await sidus.RunAsync("node", "list", "--json")).EnumerateArray().ToList();
        Assert.Equal(12, list.Count);
        Assert.Equal("node001", list[0].GetProperty("name").GetString());
        Assert.Equal("10.0.0.250", list[0].GetProperty("ip").GetString());
        Assert.Equal("10.0.1.5", list[11].GetProperty("ip").GetString());
        Assert.Equal("52:54:00:00:10:0c", list[11].GetProperty("macs")[0].GetString());

        // Second batch collides on its last MAC: none of it may be stored.
        await File.WriteAllLinesAsync(macFile, ["52:54:00:00:20:01", "52:54:00:00:20:02", "52:54:00:00:10:01"]);
        var clash = await sidus.RunAsync("node", "add", "--range", "extra[1-3]", "--mac-from", macFile);
        Assert.Equal(3, clash.ExitCode);
        Assert.Contains("node001", clash.Err, StringComparison.Ordinal);
        Assert.Equal(12, Json(await sidus.RunAsync("node", "list", "--json")).GetArrayLength());

        var mismatch = await sidus.RunAsync("node", "add", "--range", "extra[1-2]", "--mac-from", macFile);
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("2 names", mismatch.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportApply_RoundTripThroughFiles_AndPruneDryRun()
    {
        using var sidus = new SidusProcess();
        await sidus.RunAsync("group", "add", "compute", "--mode", "shared", "--kernel-args", "quiet splash", "--description", "CPU: nodes");
        await sidus.RunAsync("node", "add", "a1", "--mac", "52:54:00:00:00:01", "--group", "compute", "--tag", "rack=r1", "--tag", "note=has spaces: yes");
        await sidus.RunAsync("node", "add", "a2", "--mac", "52:54:00:00:00:02", "--mac", "52:54:00:00:00:03", "--ip", "10.0.0.2", "--image", "img:tag");
        var file = Path.Combine(sidus.Home, "cluster.yaml");
        var export = await sidus.RunAsync("export", "-o", file);
        Assert.True(export.ExitCode == 0, export.Err);

        using var other = new SidusProcess();
        var apply = await other.RunAsync("apply", "-f", file);
        Assert.True(apply.ExitCode == 0, apply.Err);
        Assert.Contains("+ node a1", apply.Out, StringComparison.Ordinal);
        var first = await sidus.RunAsync("export");
        var second = await other.RunAsync("export");
        Assert.Equal(first.Out, second.Out);
        Assert.Equal(await File.ReadAllTextAsync(file), first.Out);

        Assert.Contains("nothing to do", (await other.RunAsync("apply", "-f", file)).Out, StringComparison.Ordinal);

        await other.RunAsync("node", "add", "stray", "--mac", "52:54:00:00:00:99");
        var dry = await other.RunAsync("apply", "-f", file, "--prune", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("- node stray", dry.Out, StringComparison.Ordinal);
        Assert.Contains("dry run", dry.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await other.RunAsync("node", "show", "stray")).ExitCode);
        var prune = await other.RunWithInputAsync(await File.ReadAllTextAsync(file), "apply", "-f", "-", "--prune");
        Assert.True(prune.ExitCode == 0, prune.Err);
        Assert.Equal(2, (await other.RunAsync("node", "show", "stray")).ExitCode);
    }

    [Fact]
    public async Task Apply_BadFile_ExitOneWithLine()
    {
        using var sidus = new SidusProcess();
        var file = Path.Combine(sidus.Home, "c.yaml");
        await File.WriteAllTextAsync(file, "nodes:\n  - name: a\n    mac: 52:54:00:00:00:01\n    mdoe: ram\n");
        var r = await sidus.RunAsync("apply", "-f", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("c.yaml:4:5", r.Err, StringComparison.Ordinal);
        Assert.Contains("mdoe", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdoptAndStatus_DiscoveredMachineAndBootEvents()
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("group", "add", "fresh")).ExitCode);
        var mac = MacAddress.Parse("52:54:00:00:00:42");
        var t = DateTimeOffset.UtcNow.AddMinutes(-5);
        await using (var store = await Storage.InventoryStore.OpenAsync(sidus.DbPath))
        {
            await store.RegisterDiscoveredAsync(mac, "x64-uefi", t, "lab", "fresh");

            // A machine that is no node leaves no boot events.
            Assert.False(await store.RecordBootEventAsync(new BootEvent(mac, BootStage.Dhcp, t)));
        }

        var discovered = Json(await sidus.RunAsync("node", "discovered", "--json"));
        Assert.Equal("52:54:00:00:00:42", Assert.Single(discovered.EnumerateArray()).GetProperty("mac").GetString());

        var adopt = await sidus.RunAsync("node", "adopt", "52:54:00:00:00:42", "node042");
        Assert.True(adopt.ExitCode == 0, adopt.Err);
        Assert.Equal(0, Json(await sidus.RunAsync("node", "discovered", "--json")).GetArrayLength());
        var show = Json(await sidus.RunAsync("node", "show", "node042", "--json"));
        Assert.Equal("fresh", show.GetProperty("groups")[0].GetString());
        await using (var store = await Storage.InventoryStore.OpenAsync(sidus.DbPath))
        {
            await store.RecordBootEventAsync(new BootEvent(mac, BootStage.Dhcp, t));
            await store.RecordBootEventAsync(new BootEvent(mac, BootStage.Tftp, t.AddSeconds(2)));
            await store.RecordBootEventAsync(new BootEvent(mac, BootStage.Up, t.AddSeconds(31), "multi-user"));
        }

        var status = Json(await sidus.RunAsync("node", "status", "--json"));
        var row = Assert.Single(status.EnumerateArray());
        Assert.Equal("node042", row.GetProperty("node").GetString());
        Assert.Equal("up", row.GetProperty("stage").GetString());
        Assert.Equal(31000, row.GetProperty("stages")[2].GetProperty("sinceStartMs").GetInt64());
        var table = await sidus.RunAsync("node", "status");
        Assert.Contains("tftp+2.0s", table.Out, StringComparison.Ordinal);

        Assert.Equal(2, (await sidus.RunAsync("node", "adopt", "52:54:00:00:00:43", "x")).ExitCode);
    }

    [Fact]
    public async Task ConcurrentCliEdits_TwoProcessesSameNode_NoLostUpdate()
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:00:00:01")).ExitCode);
        const int Rounds = 6;
        await sidus.ImportImageAsync("img", Rounds);
        var tagger = Task.Run(async () =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                var r = await sidus.RunAsync("node", "set", "n1", "--tag", $"t{i}=v");
                Assert.True(r.ExitCode == 0, r.Err);
            }
        });
        var imager = Task.Run(async () =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                var r = await sidus.RunAsync("node", "set", "n1", "--image", $"img@{i + 1}");
                Assert.True(r.ExitCode == 0, r.Err);
            }
        });
        await Task.WhenAll(tagger, imager).WaitAsync(TimeSpan.FromMinutes(3));
        var show = Json(await sidus.RunAsync("node", "show", "n1", "--json"));
        Assert.Equal(Rounds, show.GetProperty("settings").GetProperty("tags").EnumerateObject().Count());
        Assert.Equal($"img@{Rounds}", show.GetProperty("settings").GetProperty("image").GetString());
        Assert.Equal(1 + (2 * Rounds), show.GetProperty("revision").GetInt64());
    }

    [Theory]
    [InlineData("node", "add")]
    [InlineData("node", "set")]
    [InlineData("node", "status")]
    [InlineData("group", "rm")]
    [InlineData("apply")]
    [InlineData("export")]
    public async Task Help_EveryVerb_DescribesOptions(params string[] verb)
    {
        using var sidus = new SidusProcess();
        var r = await sidus.RunAsync([.. verb, "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Out, StringComparison.Ordinal);
        Assert.Contains("--db", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_CreateListRevoke_SecretShownOnceNeverListed()
    {
        using var sidus = new SidusProcess();
        var made = await sidus.RunAsync("token", "create", "ci", "--expires", "12h", "--json");
        Assert.True(made.ExitCode == 0, made.Err);
        var secret = Json(made).GetProperty("token").GetString()!;
        Assert.StartsWith("sidus_", secret, StringComparison.Ordinal);
        Assert.False(Json(made).GetProperty("expired").GetBoolean());

        var plain = await sidus.RunAsync("token", "create", "ops");
        Assert.Equal(0, plain.ExitCode);
        Assert.Matches("^sidus_[A-Za-z0-9_-]{43}\n$", plain.Out);
        Assert.Contains("shown only now", plain.Err, StringComparison.Ordinal);

        var list = await sidus.RunAsync("token", "list", "--json");
        Assert.Equal(["ci", "ops"], Json(list).EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.DoesNotContain(secret, list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Sidus.Nodes.Access.AdminTokenSecret.Hash(secret), list.Out, StringComparison.Ordinal);
        var table = await sidus.RunAsync("token", "list");
        Assert.Contains("never", table.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, table.Out, StringComparison.Ordinal);

        Assert.Equal(3, (await sidus.RunAsync("token", "create", "ci")).ExitCode);
        var bad = await sidus.RunAsync("token", "create", "x", "--expires", "soon");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("not a duration", bad.Err, StringComparison.Ordinal);

        Assert.Equal(0, (await sidus.RunAsync("token", "revoke", "ci")).ExitCode);
        Assert.Equal(["ops"], Json(await sidus.RunAsync("token", "list", "--json")).EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(2, (await sidus.RunAsync("token", "revoke", "ci")).ExitCode);
    }

    [Fact]
    public async Task NodeStatus_HostileEventText_NoControlCharacterReachesTheOutput()
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:00:00:01")).ExitCode);
        var mac = MacAddress.Parse("52:54:00:00:00:01");
        await using (var store = await Storage.InventoryStore.OpenAsync(sidus.DbPath))
        {
            await store.RecordBootEventAsync(new BootEvent(mac, BootStage.Up, DateTimeOffset.UtcNow, "x\u001b[2J\u001b]0;pwned\u0007y")
            {
                Up = new Sidus.Wire.Contracts.UpReport { Host = "pwned\u001b[31m", SshEd25519 = "SHA256:\u009bfake" },
            });
        }

        foreach (var args in new[] { new[] { "node", "status" }, ["node", "status", "--json"] })
        {
            var r = await sidus.RunAsync(args);
            Assert.True(r.ExitCode == 0, r.Err);
            Assert.DoesNotContain(r.Out, c => c is '\u001b' or '\u0007' or '\u009b');
            Assert.Contains("pwned", r.Out, StringComparison.Ordinal);
        }
    }
}
