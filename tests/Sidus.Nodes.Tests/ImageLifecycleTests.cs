using System.Text.Json;

namespace Sidus.Nodes.Tests;

/// <summary>
/// The inventory and the image store hold together, through the real CLI on a real store: settings name only
/// images, versions and tags that exist; what nodes boot is not removed without --force; prune keeps what is booted.
/// </summary>
public sealed class ImageLifecycleTests : IDisposable
{
    private readonly SidusProcess _sidus = new();

    public void Dispose() => _sidus.Dispose();

    private Task ImportAsync(string image, int versions) => _sidus.ImportImageAsync(image, versions);

    private async Task<SidusProcess.Result> Ok(params string[] args)
    {
        var r = await _sidus.RunAsync(args);
        Assert.True(r.ExitCode == 0, $"sidus {string.Join(' ', args)}: exit {r.ExitCode}: {r.Err}");
        return r;
    }

    private async Task<SidusProcess.Result> Refused(int code, params string[] args)
    {
        var r = await _sidus.RunAsync(args);
        Assert.True(r.ExitCode == code, $"sidus {string.Join(' ', args)}: exit {r.ExitCode} (expected {code}): {r.Err}");
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        return r;
    }

    [Fact]
    public async Task Settings_NamingNoImageVersionOrTag_AreRefused_WithWhatExists()
    {
        await ImportAsync("demo", 3);
        await Ok("node", "add", "node65", "--mac", "52:54:00:00:00:65");

        var version = await Refused(2, "node", "set", "node65", "--image", "demo@9");
        Assert.Contains("demo@9", version.Err, StringComparison.Ordinal);
        Assert.Contains("1-3", version.Err, StringComparison.Ordinal);
        var tag = await Refused(2, "node", "set", "node65", "--image", "demo:prod");
        Assert.Contains("no tag 'prod'", tag.Err, StringComparison.Ordinal);
        var image = await Refused(2, "group", "add", "gpu", "--image", "debain@12");
        Assert.Contains("debain", image.Err, StringComparison.Ordinal);
        Assert.Contains("images: demo", image.Err, StringComparison.Ordinal);
        await Refused(2, "node", "add", "node66", "--mac", "52:54:00:00:00:66", "--image", "nosuch");
        await Ok("group", "add", "gpu");
        await Refused(2, "group", "set", "gpu", "--image", "demo@0");

        var show = JsonDocument.Parse((await Ok("node", "show", "node65", "--json")).Out).RootElement;
        Assert.Equal(JsonValueKind.Null, show.GetProperty("effective").GetProperty("image").GetProperty("value").ValueKind);

        // What exists is taken: a number, an id prefix, a tag, the newest.
        await Ok("image", "tag", "demo@2", "prod");
        await Ok("node", "set", "node65", "--image", "demo@3");
        await Ok("node", "set", "node65", "--image", "demo:prod");
        await Ok("group", "set", "gpu", "--image", "demo");
    }

    [Fact]
    public async Task Apply_ImageThatDoesNotExist_IsRefusedAtTheLineOfItsKey_NothingChanges()
    {
        await ImportAsync("debian", 2);
        var yaml = Path.Combine(_sidus.Home, "cluster.yaml");
        await File.WriteAllTextAsync(yaml, """
            groups:
              - name: compute
                image: debian@2
            nodes:
              - name: node001
                mac: 52:54:00:12:34:01
                group: compute
              - name: node002
                mac: 52:54:00:12:34:02
                image: debain@12
            """);
        foreach (var extra in new[] { "--dry-run", null })
        {
            string[] args = extra is null ? ["apply", "-f", yaml] : ["apply", "-f", yaml, extra];
            var r = await _sidus.RunAsync(args);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("cluster.yaml:10:5:", r.Err, StringComparison.Ordinal);
            Assert.Contains("node 'node002' cannot boot 'debain@12'", r.Err, StringComparison.Ordinal);
            Assert.Contains("images: debian", r.Err, StringComparison.Ordinal);
        }

        Assert.Equal(0, JsonDocument.Parse((await Ok("node", "list", "--json")).Out).RootElement.GetArrayLength());

        // The defaults alike.
        var defaults = Path.Combine(_sidus.Home, "defaults.yaml");
        await File.WriteAllTextAsync(defaults, "defaults:\n  mode: ram\n  image: debian:prod\n");
        var d = await _sidus.RunAsync("apply", "-f", defaults);
        Assert.Equal(2, d.ExitCode);
        Assert.Contains("defaults.yaml:3:3: the defaults cannot boot 'debian:prod'", d.Err, StringComparison.Ordinal);

        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml)).Replace("debain@12", "debian@1", StringComparison.Ordinal));
        await Ok("apply", "-f", yaml);
        Assert.Equal(2, JsonDocument.Parse((await Ok("node", "list", "--json")).Out).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Remove_WhatNodesBoot_NeedsForce_AndNamesThem_OneVersionAtATime()
    {
        await ImportAsync("demo", 4);
        await ImportAsync("tiny", 1);
        await Ok("group", "add", "compute", "--image", "demo@2");
        await Ok("node", "add", "node001", "--mac", "52:54:00:00:01:01", "--group", "compute");
        await Ok("node", "add", "node002", "--mac", "52:54:00:00:01:02", "--image", "tiny");
        await Ok("image", "tag", "demo@3", "prod");

        // Through the group: the node is named.
        var viaGroup = await Refused(3, "image", "rm", "demo@2");
        Assert.Contains("node001", viaGroup.Err, StringComparison.Ordinal);
        Assert.Contains("group:compute", viaGroup.Err, StringComparison.Ordinal);
        Assert.Contains("--force", viaGroup.Err, StringComparison.Ordinal);
        var whole = await Refused(3, "image", "rm", "tiny");
        Assert.Contains("node002", whole.Err, StringComparison.Ordinal);

        // A tag names it: refused, naming the tag; --force takes the tag too.
        var tagged = await Refused(3, "image", "rm", "demo@3");
        Assert.Contains("'prod'", tagged.Err, StringComparison.Ordinal);
        var newest = await Refused(1, "image", "rm", "demo@4");
        Assert.Contains("newest", newest.Err, StringComparison.Ordinal);

        // One version goes; the others stay, and the gone one resolves no more.
        var one = await Ok("image", "rm", "demo@1");
        Assert.Contains("removed demo@1", one.Out, StringComparison.Ordinal);
        var log = JsonDocument.Parse((await Ok("image", "log", "demo", "--json")).Out).RootElement;
        Assert.Equal([4L, 3L, 2L], Versions(log));
        var gone = await Refused(2, "node", "set", "node002", "--image", "demo@1");
        Assert.Contains("removed", gone.Err, StringComparison.Ordinal);

        await Ok("image", "rm", "demo@3", "--force");
        Assert.Equal(2, (await _sidus.RunAsync("image", "show", "demo:prod")).ExitCode);
        var forced = await Ok("image", "rm", "demo@2", "--force");
        Assert.Contains("node001", forced.Err, StringComparison.Ordinal);
        await Ok("image", "rm", "tiny", "--force");
        Assert.Equal(2, (await _sidus.RunAsync("image", "show", "tiny")).ExitCode);

        // The store still verifies: the removed versions' commits link the history, their data may go.
        await Ok("store", "gc");
        await Ok("store", "verify");
        Assert.Equal([4L], Versions(JsonDocument.Parse((await Ok("image", "log", "demo", "--json")).Out).RootElement));
    }

    [Fact]
    public async Task Prune_KeepsTheNewest_WhatNodesBoot_AndWithKeepTagged_TaggedVersions()
    {
        await ImportAsync("demo", 6);
        await Ok("node", "add", "node001", "--mac", "52:54:00:00:02:01", "--image", "demo@2");
        await Ok("image", "tag", "demo@3", "prod");

        var dry = JsonDocument.Parse((await Ok("image", "prune", "demo", "--keep", "2", "--keep-tagged", "--dry-run", "--json")).Out).RootElement;
        Assert.True(dry.GetProperty("dry_run").GetBoolean());
        Assert.Equal([4L, 1L], dry.GetProperty("removed").EnumerateArray().Select(v => v.GetProperty("version").GetInt64()));
        Assert.Equal(6, Versions(JsonDocument.Parse((await Ok("image", "log", "demo", "--json")).Out).RootElement).Count);

        var text = await Ok("image", "prune", "demo", "--keep", "2");
        Assert.Contains("removed demo@3", text.Out, StringComparison.Ordinal);
        Assert.Contains("prod", text.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("demo@2 ", text.Out, StringComparison.Ordinal);
        Assert.Equal([6L, 5L, 2L], Versions(JsonDocument.Parse((await Ok("image", "log", "demo", "--json")).Out).RootElement));
        await Refused(1, "image", "prune", "demo", "--keep", "0");
    }

    private static List<long> Versions(JsonElement log) =>
        (log.ValueKind == JsonValueKind.Array ? log : log.GetProperty("versions")).EnumerateArray().Select(v => v.GetProperty("version").GetInt64()).ToList();
}
