using System.Text.Json;

namespace Sidus.Nodes.Tests;

/// <summary>`sidus node render` and `sidus node rm` on the real CLI: origins, hidden secrets, errors, keys forgotten on removal.</summary>
public class RenderCliTests
{
    [Fact]
    public async Task NodeRender_LevelsSecretsErrorsAndRemoval_AsDocumented()
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:aa:10:01", "--ip", "10.0.0.11")).ExitCode);
        var tree = Path.Combine(sidus.Home, "overrides", "nodes", "n1", "etc");
        Directory.CreateDirectory(tree);
        await File.WriteAllTextAsync(Path.Combine(tree, "motd.tmpl"), "this is {{ node.name }} at {{ node.ip }}\n");

        var r = await sidus.RunAsync("node", "render", "n1", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var files = JsonDocument.Parse(r.Out).RootElement.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("path").GetString()!, f => f.Clone());
        Assert.Equal("this is n1 at 10.0.0.11\n", files["/etc/motd"].GetProperty("text").GetString());
        Assert.Equal("node", files["/etc/motd"].GetProperty("from").GetString());
        Assert.Equal("generated", files["/etc/hostname"].GetProperty("from").GetString());
        var key = files["/etc/ssh/ssh_host_ed25519_key"];
        Assert.Equal("0600", key.GetProperty("mode").GetString());
        Assert.StartsWith("SHA256:", key.GetProperty("fingerprint").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", r.Out, StringComparison.Ordinal);
        Assert.Contains("OPENSSH PRIVATE KEY", (await sidus.RunAsync("node", "render", "n1", "--show-secrets")).Out, StringComparison.Ordinal);

        var again = JsonDocument.Parse((await sidus.RunAsync("node", "render", "n1", "--json")).Out).RootElement.GetProperty("files").EnumerateArray()
            .Single(f => f.GetProperty("path").GetString() == "/etc/machine-id").GetProperty("text").GetString();
        Assert.Equal(files["/etc/machine-id"].GetProperty("text").GetString(), again);

        Assert.Equal(2, (await sidus.RunAsync("node", "render", "nosuch")).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(tree, "motd.tmpl"), "\n{{ node.colour }}\n");
        var bad = await sidus.RunAsync("node", "render", "n1");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("motd.tmpl:2: unknown variable 'node.colour'", bad.Err, StringComparison.Ordinal);

        Assert.True(Directory.Exists(Path.Combine(sidus.Home, "node-state", "n1")));
        Assert.Equal(0, (await sidus.RunAsync("node", "rm", "n1")).ExitCode);
        Assert.False(Directory.Exists(Path.Combine(sidus.Home, "node-state", "n1")));
    }
}

/// <summary>Override folders that reach no node are named, with the nearest name, by render and apply.</summary>
public class OverrideFolderWarningTests
{
    [Fact]
    public async Task FoldersForMissingGroupsAndNodes_WarnedByRenderAndApply()
    {
        using var sidus = new SidusProcess();
        Assert.Equal(0, (await sidus.RunAsync("group", "add", "compute")).ExitCode);
        Assert.Equal(0, (await sidus.RunAsync("node", "add", "n1", "--mac", "52:54:00:aa:10:01", "--group", "compute")).ExitCode);
        var root = Path.Combine(sidus.Home, "overrides");
        foreach (var folder in new[] { "global/etc", "groups/compute/etc", "groups/comptue/etc", "nodes/n1/etc", "nodes/n9/etc", "group/x" })
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
        }

        var render = await sidus.RunAsync("node", "render", "n1");
        Assert.True(render.ExitCode == 0, render.Err);
        Assert.Contains("groups/comptue: there is no group 'comptue', so no node gets these files (did you mean 'compute'?)", render.Err, StringComparison.Ordinal);
        Assert.Contains("nodes/n9: there is no node 'n9'", render.Err, StringComparison.Ordinal);
        Assert.Contains("overrides/group: not one of global/", render.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("groups/compute:", render.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("nodes/n1:", render.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", render.Out, StringComparison.Ordinal);

        var yaml = Path.Combine(sidus.Home, "cluster.yaml");
        await File.WriteAllTextAsync(yaml, "groups:\n  - name: comptue\n");
        var apply = await sidus.RunAsync("apply", "-f", yaml);
        Assert.True(apply.ExitCode == 0, apply.Err);
        Assert.DoesNotContain("comptue", apply.Err, StringComparison.Ordinal);
        Assert.Contains("nodes/n9: there is no node 'n9'", apply.Err, StringComparison.Ordinal);
    }
}
