using Sidus.Nodes.Storage;
using Sidus.Nodes.Yaml;

namespace Sidus.Nodes.Tests;

/// <summary>
/// Issue 9, "excludes by image, group and node": the inventory's update excludes, the union of the defaults', the
/// node's groups' and the node's, each with the strongest level naming it; validated as the update validates them;
/// stored (SQLite here, PostgreSQL in <see cref="PostgresUpdateExcludeTests"/>), read and written by cluster.yaml.
/// </summary>
public class UpdateExcludeTests
{
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:00:01");

    private const string Cluster = """
        version: 1
        defaults:
          update-excludes: [/srv/site, /opt/shared]
        groups:
          - name: compute
            update-excludes:
              - /scratch/*
              - /opt/shared
          - name: gpu
            update-excludes: /opt/cuda-cache
        nodes:
          - name: node001
            mac: 02:00:00:00:00:01
            groups: [gpu, compute]
            update-excludes: [/etc/local.conf]
        """;

    [Fact]
    public void Resolve_UnionOfDefaultsGroupsAndNode_EachPathOnceWithTheStrongestLevel()
    {
        var groups = new Dictionary<string, Group>
        {
            ["gpu"] = new() { Name = "gpu", Settings = new() { UpdateExcludes = ["/opt/cuda-cache", "/opt/shared"] } },
            ["compute"] = new() { Name = "compute", Settings = new() { UpdateExcludes = ["/scratch/*", "/opt/shared"] } },
        };
        var node = new Node { Name = "n1", Macs = [Mac1], Groups = ["gpu", "compute"], Settings = new() { UpdateExcludes = ["/etc/local.conf", "/srv/site"] } };
        var defaults = new NodeSettings { UpdateExcludes = ["/srv/site", "/var/opt"] };

        var e = SettingsResolver.Resolve(node, groups.GetValueOrDefault, defaults);

        Assert.Equal(
            [
                new("/etc/local.conf", "node"), new("/opt/cuda-cache", "group:gpu"), new("/opt/shared", "group:gpu"),
                new("/scratch/*", "group:compute"), new("/srv/site", "node"), new("/var/opt", "defaults"),
            ],
            e.UpdateExcludes.ToArray());
        Assert.Empty(SettingsResolver.Resolve(new Node { Name = "n2", Macs = [Mac1] }, _ => null, NodeSettings.Empty).UpdateExcludes);
    }

    [Theory]
    [InlineData("var/log", "update exclude 'var/log' is not an absolute path")]
    [InlineData("/opt/../etc", "update exclude '/opt/../etc' is not an absolute path")]
    [InlineData("/opt/./x", "update exclude '/opt/./x' is not an absolute path")]
    [InlineData("/", "update exclude '/' would leave nothing to sync")]
    [InlineData("/opt/a\nb", "has a control character")]
    [InlineData("", "update exclude '' is not an absolute path")]
    public void Validated_RefusesWhatTheUpdateRefuses_NamingThePath(string path, string message)
    {
        var e = Assert.Throws<InventoryException>(() => new NodeSettings { UpdateExcludes = [path] }.Validated());
        Assert.Equal(InventoryErrorKind.Invalid, e.Kind);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validated_SortsAndKeepsEachPathOnce_ContentsFormAccepted()
    {
        var s = new NodeSettings { UpdateExcludes = ["/z", "/a/*", "/z", "/opt/data/"] }.Validated();
        Assert.Equal(["/a/*", "/opt/data/", "/z"], s.UpdateExcludes.ToArray());
        Assert.Equal(s, new NodeSettings { UpdateExcludes = ["/opt/data/", "/a/*", "/z"] }.Validated());
        Assert.NotEqual(s, new NodeSettings { UpdateExcludes = ["/a/*", "/z"] }.Validated());
    }

    [Fact]
    public async Task Sqlite_StoredForNodesGroupsAndDefaults_ReadBackAndResolved()
    {
        await using var inv = await TempInventory.CreateAsync();
        await RoundTripAsync(inv.Store);
    }

    /// <summary>The same checks on any inventory store: what each level stores comes back, edits replace, the snapshot resolves the union.</summary>
    internal static async Task RoundTripAsync(InventoryStore store)
    {
        await store.EditAsync(async e =>
        {
            await e.SetDefaultsAsync(new NodeSettings { UpdateExcludes = ["/srv/site"] });
            await e.AddGroupAsync(new Group { Name = "compute", Settings = new() { UpdateExcludes = ["/scratch/*", "/opt/shared"] } });
            await e.AddNodeAsync(new Node { Name = "n1", Macs = [Mac1], Groups = ["compute"], Settings = new() { UpdateExcludes = ["/etc/local.conf"] } });
        });

        var snap = await store.LoadAsync();
        Assert.Equal(["/srv/site"], snap.Defaults.UpdateExcludes.ToArray());
        Assert.Equal(["/opt/shared", "/scratch/*"], snap.FindGroup("compute")!.Settings.UpdateExcludes.ToArray());
        Assert.Equal(["/etc/local.conf"], snap.FindNode("n1")!.Settings.UpdateExcludes.ToArray());
        Assert.Equal(
            [("/etc/local.conf", "node"), ("/opt/shared", "group:compute"), ("/scratch/*", "group:compute"), ("/srv/site", "defaults")],
            snap.Resolve(snap.FindNode("n1")!).UpdateExcludes.Select(x => (x.Value, x.Origin)));

        // An edit replaces the list; an empty list is stored as none; other settings keep theirs.
        await store.EditAsync(e => e.EditNodeAsync("n1", n => n with { Settings = n.Settings with { UpdateExcludes = [], KernelArgs = "quiet" } }));
        await store.EditAsync(e => e.EditGroupAsync("compute", g => g with { Settings = g.Settings with { UpdateExcludes = ["/scratch/*"] } }));
        snap = await store.LoadAsync();
        Assert.Empty(snap.FindNode("n1")!.Settings.UpdateExcludes);
        Assert.Equal(["/scratch/*", "/srv/site"], snap.Resolve(snap.FindNode("n1")!).UpdateExcludes.Select(x => x.Value));

        var refused = await Assert.ThrowsAsync<InventoryException>(() =>
            store.EditAsync(e => e.EditNodeAsync("n1", n => n with { Settings = n.Settings with { UpdateExcludes = ["/opt/../etc"] } })));
        Assert.Contains("'/opt/../etc'", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await store.LoadAsync()).FindNode("n1")!.Settings.UpdateExcludes);
    }

    [Fact]
    public async Task Yaml_ApplyExportApply_KeepsEveryLevelsList_ChangesListed()
    {
        await using var inv = await TempInventory.CreateAsync();
        var plan = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(Cluster), prune: false, dryRun: false);
        Assert.Contains(plan.Changes, c => c.Entity == "defaults" && c.Details.Contains("update-exclude: - -> /srv/site"));

        var snap = await inv.Store.LoadAsync();
        Assert.Equal(
            ["/etc/local.conf", "/opt/cuda-cache", "/opt/shared", "/scratch/*", "/srv/site"],
            snap.Resolve(snap.FindNode("node001")!).UpdateExcludes.Select(x => x.Value));
        Assert.Equal("group:gpu", snap.Resolve(snap.FindNode("node001")!).UpdateExcludes.Single(x => x.Value == "/opt/cuda-cache").Origin);

        var exported = InventoryYaml.Write(InventoryDocument.FromSnapshot(snap));
        Assert.Contains("update-excludes:", exported, StringComparison.Ordinal);
        await using var other = await TempInventory.CreateAsync();
        await InventoryApplier.ApplyAsync(other.Store, InventoryYaml.Parse(exported), prune: false, dryRun: false);
        Assert.Equal(exported, InventoryYaml.Write(InventoryDocument.FromSnapshot(await other.Store.LoadAsync())));
        Assert.True((await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(exported), prune: true, dryRun: false)).IsEmpty);

        // A path dropped from a group and one added: both named in the plan.
        var changed = Cluster.Replace("- /scratch/*\n", "- /tmp/big\n", StringComparison.Ordinal);
        var dry = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(changed), prune: false, dryRun: true);
        var group = Assert.Single(dry.Changes, c => c.Entity == "group");
        Assert.Equal(["update-exclude: - -> /tmp/big", "update-exclude: /scratch/* -> -"], group.Details);
    }

    [Fact]
    public void Yaml_BadPath_RefusedWithItsLineAndThePath()
    {
        var bad = Cluster.Replace("[/etc/local.conf]", "[/etc/local.conf, etc/relative]", StringComparison.Ordinal);
        var e = Assert.Throws<InventoryException>(() => InventoryYaml.Parse(bad));
        Assert.StartsWith("cluster.yaml:15:", e.Message, StringComparison.Ordinal);
        Assert.Contains("update exclude 'etc/relative' is not an absolute path", e.Message, StringComparison.Ordinal);
        var mapping = Assert.Throws<InventoryException>(() => InventoryYaml.Parse(Cluster.Replace("[/etc/local.conf]", "{ a: b }", StringComparison.Ordinal)));
        Assert.Contains("expected a single value", mapping.Message, StringComparison.Ordinal);
    }
}

/// <summary>The update excludes on a real PostgreSQL (<see cref="PostgresCluster"/>): the same round trip as on SQLite.</summary>
[Collection(PostgresCollection.Name)]
public class PostgresUpdateExcludeTests(PostgresCluster pg)
{
    [Fact]
    public async Task Postgres_StoredForNodesGroupsAndDefaults_ReadBackAndResolved()
    {
        await using var store = await InventoryStore.OpenAsync(pg.NewDatabase());
        await UpdateExcludeTests.RoundTripAsync(store);
    }
}
