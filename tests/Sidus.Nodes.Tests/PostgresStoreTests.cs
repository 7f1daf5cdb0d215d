using System.Net;
using Sidus.Nodes.Storage;
using Sidus.Nodes.Yaml;

namespace Sidus.Nodes.Tests;

/// <summary>The same repository on a real PostgreSQL: schema, conflicts, concurrency, discovery, events, apply.</summary>
[Collection(PostgresCollection.Name)]
public class PostgresStoreTests(PostgresCluster pg)
{
    private static MacAddress Mac(int i) => new(0x0200_0000_0000UL + (ulong)i);

    [Fact]
    public async Task Open_Twice_MigratesOnceAndSelectsPostgres()
    {
        var cs = pg.NewDatabase();
        Assert.True(InventoryStore.IsPostgres(cs));
        await using var a = await InventoryStore.OpenAsync(cs);
        await using var b = await InventoryStore.OpenAsync(cs);
        Assert.Equal("postgresql", a.Provider);
        Assert.Equal(9, await b.GetSchemaVersionAsync());
    }

    [Fact]
    public async Task NodeCrudAndConflicts_BehaveAsOnSqlite()
    {
        await using var store = await InventoryStore.OpenAsync(pg.NewDatabase());
        await store.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "compute", Settings = new() { Image = "debian@3" } });
            await e.AddNodeAsync(new Node { Name = "a", Macs = [Mac(1), Mac(2)], Ip = IPAddress.Parse("10.0.0.1"), Groups = ["compute"] });
        });
        var mac = await Assert.ThrowsAsync<InventoryException>(() => store.EditAsync(e => e.AddNodeAsync(new Node { Name = "b", Macs = [Mac(2)] })));
        Assert.Equal(InventoryErrorKind.Conflict, mac.Kind);
        Assert.Contains("node 'a'", mac.Message, StringComparison.Ordinal);
        var ip = await Assert.ThrowsAsync<InventoryException>(() => store.EditAsync(e => e.AddNodeAsync(new Node { Name = "b", Macs = [Mac(3)], Ip = IPAddress.Parse("10.0.0.1") })));
        Assert.Contains("node 'a'", ip.Message, StringComparison.Ordinal);

        var n = (await store.FindNodeByMacAsync(Mac(2)))!;
        Assert.Equal("a", n.Name);
        var snap = await store.LoadAsync();
        Assert.Equal(("debian@3", "group:compute"), (snap.Resolve(n).Image.Value, snap.Resolve(n).Image.Origin));
        var inUse = await Assert.ThrowsAsync<InventoryException>(() => store.EditAsync(e => e.RemoveGroupAsync("compute", false)));
        Assert.Equal(InventoryErrorKind.Conflict, inUse.Kind);
    }

    [Fact]
    public async Task ConcurrentEdits_TwoDataSources_BothSurvive()
    {
        var cs = pg.NewDatabase();
        await using var one = await InventoryStore.OpenAsync(cs);
        await using var two = await InventoryStore.OpenAsync(cs);
        await one.EditAsync(e => e.AddNodeAsync(new Node { Name = "a", Macs = [Mac(1)] }));
        const int EditsEach = 30;
        var tags = Task.Run(async () =>
        {
            for (var i = 0; i < EditsEach; i++)
            {
                var k = "t" + i;
                await one.EditAsync(e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Tags = n.Settings.Tags.SetItem(k, "v") } }));
            }
        });
        var images = Task.Run(async () =>
        {
            for (var i = 0; i < EditsEach; i++)
            {
                var img = "img@" + i;
                await two.EditAsync(e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Image = img } }));
            }
        });
        await Task.WhenAll(tags, images).WaitAsync(TimeSpan.FromMinutes(2));
        var final = (await one.GetNodeAsync("a"))!;
        Assert.Equal(EditsEach, final.Settings.Tags.Count);
        Assert.Equal("img@" + (EditsEach - 1), final.Settings.Image);
        Assert.Equal(1 + (2 * EditsEach), final.Revision);
    }

    [Fact]
    public async Task DiscoveryEventsAndApply_RoundTrip()
    {
        await using var store = await InventoryStore.OpenAsync(pg.NewDatabase());
        var t = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.Equal(DiscoveryOutcome.Registered, await store.RegisterDiscoveredAsync(Mac(5), "bios", t, "lab"));
        Assert.Equal(DiscoveryOutcome.Registered, await store.RegisterDiscoveredAsync(Mac(5), null, t.AddSeconds(5), "lab"));
        Assert.Equal(2, Assert.Single(await store.ListDiscoveredAsync()).TimesSeen);
        await store.AdoptAsync(Mac(5), "n5");
        await store.RecordBootEventAsync(new BootEvent(Mac(5), BootStage.Dhcp, t));
        await store.RecordBootEventAsync(new BootEvent(Mac(5), BootStage.Kernel, t.AddSeconds(4)));
        var s = Assert.Single(await store.GetBootStatusAsync());
        Assert.Equal(("n5", BootStage.Kernel, TimeSpan.FromSeconds(4)), (s.Node, s.Latest.Stage, s.Latest.SinceStart));

        var yaml = InventoryYaml.Write(InventoryDocument.FromSnapshot(await store.LoadAsync()));
        await using var copy = await InventoryStore.OpenAsync(pg.NewDatabase());
        await InventoryApplier.ApplyAsync(copy, InventoryYaml.Parse(yaml), prune: false, dryRun: false);
        Assert.Equal(yaml, InventoryYaml.Write(InventoryDocument.FromSnapshot(await copy.LoadAsync())));
        var v = await copy.GetVersionAsync();
        Assert.True((await InventoryApplier.ApplyAsync(copy, InventoryYaml.Parse(yaml), prune: true, dryRun: false)).IsEmpty);
        Assert.Equal(v, await copy.GetVersionAsync());
    }

    [Fact]
    public async Task Layouts_HistoryResolutionAndRemoval_AsOnSqlite()
    {
        await using var store = await InventoryStore.OpenAsync(pg.NewDatabase());
        var t = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        await store.EditAsync(e => e.SetLayoutAsync("small", LayoutStoreTests.Text(), t));
        await store.EditAsync(e => e.SetLayoutAsync("small", LayoutStoreTests.Text("1GiB"), t.AddMinutes(1)));
        await store.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "gpu", Settings = new() { Layout = "small" } });
            await e.AddNodeAsync(new Node { Name = "a", Macs = [Mac(1)], Groups = ["gpu"] });
        });
        var history = await store.GetLayoutHistoryAsync("small");
        Assert.Equal([(1L, LayoutStoreTests.Text(), t), (2L, LayoutStoreTests.Text("1GiB"), t.AddMinutes(1))], history.Select(h => (h.Revision, h.Text, h.At)));
        var snap = await store.LoadAsync();
        Assert.Equal(("small", "group:gpu"), (snap.Resolve(snap.FindNode("a")!).Layout.Value, snap.Resolve(snap.FindNode("a")!).Layout.Origin));
        Assert.Equal((2L, 2L), (snap.Layout("small")!.Revision, snap.Layout("small")!.Revisions));

        var bad = await Assert.ThrowsAsync<InventoryException>(() => store.EditAsync(e => e.SetLayoutAsync("small", "items: [", t, "x.yaml")));
        Assert.StartsWith("x.yaml:", bad.Message, StringComparison.Ordinal);
        var inUse = await Assert.ThrowsAsync<InventoryException>(() => store.EditAsync(e => e.RemoveLayoutAsync("small", force: false)));
        Assert.Contains("node a, group:gpu", inUse.Message, StringComparison.Ordinal);
        await store.EditAsync(e => e.RemoveLayoutAsync("small", force: true));
        Assert.Empty((await store.LoadAsync()).Layouts);
    }

    [Fact]
    public async Task Cli_DbConnectionString_UsesPostgres()
    {
        var cs = pg.NewDatabase();
        using var sidus = new SidusProcess();
        var add = await sidus.RunAsync("node", "add", "pgnode", "--mac", "52:54:00:00:77:01", "--db", cs);
        Assert.True(add.ExitCode == 0, add.Err);
        Assert.False(File.Exists(sidus.DbPath), "with --db the SQLite file must not be created");
        await using var store = await InventoryStore.OpenAsync(cs);
        Assert.NotNull(await store.GetNodeAsync("pgnode"));
    }
}
