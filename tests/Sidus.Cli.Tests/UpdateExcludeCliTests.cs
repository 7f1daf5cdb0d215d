using System.Text.Json;
using Sidus.Cli.Tests.Support;

namespace Sidus.Cli.Tests;

/// <summary>
/// The inventory's update excludes through the real CLI: `node set` and `group set` add, remove and clear them,
/// `node show` lists each with the level it comes from (text and --json), `apply -f` sets the defaults' and `export`
/// writes them back; a bad path is refused with its name, a path not set is named when asked to remove it.
/// </summary>
public sealed class UpdateExcludeCliTests : IDisposable
{
    private readonly SidusRun _sidus = new();

    public void Dispose() => _sidus.Dispose();

    private SidusRun.Result Ok(params string[] args)
    {
        var r = _sidus.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    private (string Path, string From)[] Effective(string node) =>
        [.. JsonDocument.Parse(Ok("node", "show", node, "--json").Out).RootElement.GetProperty("effective").GetProperty("updateExcludes").EnumerateArray()
            .Select(e => (e.GetProperty("value").GetString()!, e.GetProperty("from").GetString()!))];

    [Fact]
    public void Set_show_remove_and_clear_at_node_and_group_level_with_origins()
    {
        Ok("group", "add", "compute", "--update-exclude", "/scratch/*");
        Ok("node", "add", "n1", "--mac", "52:54:00:00:00:01", "--group", "compute", "--update-exclude", "/etc/local.conf");
        Ok("group", "set", "compute", "--update-exclude", "/opt/shared", "--update-exclude", "/etc/local.conf");
        Ok("node", "set", "n1", "--update-exclude", "/srv/data");

        Assert.Equal([("/etc/local.conf", "node"), ("/opt/shared", "group:compute"), ("/scratch/*", "group:compute"), ("/srv/data", "node")], Effective("n1"));
        var text = Ok("node", "show", "n1").OutLines;
        Assert.Contains(text, l => l.StartsWith("update-exclude", StringComparison.Ordinal) && l.Contains("/opt/shared", StringComparison.Ordinal)
                                   && l.TrimEnd().EndsWith("group:compute", StringComparison.Ordinal));
        Assert.All(text, l => Assert.True(l.Length <= 80, l));
        var settings = JsonDocument.Parse(Ok("node", "show", "n1", "--json").Out).RootElement.GetProperty("settings").GetProperty("updateExcludes");
        Assert.Equal(["/etc/local.conf", "/srv/data"], settings.EnumerateArray().Select(e => e.GetString()));

        // The node's own /etc/local.conf gone, the group's remains; then the group's cleared.
        Ok("node", "set", "n1", "--remove-update-exclude", "/etc/local.conf");
        Assert.Contains(("/etc/local.conf", "group:compute"), Effective("n1"));
        Ok("group", "set", "compute", "--clear-update-excludes");
        Assert.Equal([("/srv/data", "node")], Effective("n1"));

        var missing = _sidus.Run("node", "set", "n1", "--remove-update-exclude", "/opt/nosuch");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no update exclude '/opt/nosuch' is set here (set here: /srv/data;", missing.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative/path", "update exclude 'relative/path' is not an absolute path")]
    [InlineData("/opt/../etc", "update exclude '/opt/../etc' is not an absolute path")]
    [InlineData("/", "update exclude '/' would leave nothing to sync")]
    public void Bad_paths_are_refused_by_node_set_group_set_and_apply_naming_the_path(string path, string message)
    {
        Ok("group", "add", "g");
        Ok("node", "add", "n1", "--mac", "52:54:00:00:00:01");
        foreach (var args in new[] { new[] { "node", "set", "n1", "--update-exclude", path }, ["group", "set", "g", "--update-exclude", path] })
        {
            var r = _sidus.Run(args);
            Assert.Equal(ExitCodes.Usage, r.ExitCode);
            Assert.Contains(message, r.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        }

        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, $"version: 1\ndefaults:\n  update-excludes: [/ok, \"{path}\"]\n");
        var apply = _sidus.Run("apply", "-f", file);
        Assert.Equal(ExitCodes.Usage, apply.ExitCode);
        Assert.Contains("cluster.yaml:3:", apply.Err, StringComparison.Ordinal);
        Assert.Contains(message, apply.Err, StringComparison.Ordinal);
        Assert.Empty(Effective("n1"));
    }

    [Fact]
    public void Apply_sets_the_defaults_list_and_export_writes_it_back()
    {
        var file = Path.Combine(_sidus.Home, "cluster.yaml");
        File.WriteAllText(file, """
            version: 1
            defaults:
              update-excludes: [/srv/site, /opt/keep/*]
            groups:
              - name: compute
                update-excludes: /scratch
            nodes:
              - name: n1
                mac: 52:54:00:00:00:01
                group: compute
            """);
        var apply = Ok("apply", "-f", file);
        Assert.Contains("update-exclude: - -> /srv/site", apply.Out, StringComparison.Ordinal);
        Assert.Equal([("/opt/keep/*", "defaults"), ("/scratch", "group:compute"), ("/srv/site", "defaults")], Effective("n1"));

        var exported = Ok("export").Out;
        Assert.Contains("update-excludes:", exported, StringComparison.Ordinal);
        File.WriteAllText(file, exported);
        Assert.Contains("nothing to do", Ok("apply", "-f", file, "--prune").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_of_node_set_lists_the_update_exclude_options()
    {
        var help = Ok("node", "set", "--help").Out;
        foreach (var option in new[] { "--update-exclude", "--remove-update-exclude", "--clear-update-excludes" })
        {
            Assert.Contains(option, help, StringComparison.Ordinal);
        }
    }
}
