using Sidus.Nodes.Layouts;
using Sidus.Nodes.Storage;
using Sidus.Nodes.Yaml;

namespace Sidus.Nodes.Tests;

/// <summary>
/// Layouts stored in the inventory (SQLite): revisions, the checks before storing, who uses one, resolution like the
/// image's, and the `layouts:` map of `sidus apply` (inline, items only, literal block, file:).
/// </summary>
public class LayoutStoreTests
{
    /// <summary>A valid layout: one disk, an ESP of ESP_SIZE, the rest root.</summary>
    public static string Text(string espSize = "512MiB") => $$"""
        version: 1
        items:
          - { id: disk0, type: disk, match: { first: true } }
          - { id: esp, type: partition, disk: disk0, size: {{espSize}}, flags: [esp] }
          - { id: rootp, type: partition, disk: disk0, size: rest }
          - { id: esp-fs, type: format, volume: esp, fstype: vfat }
          - { id: root-fs, type: format, volume: rootp, fstype: ext4 }
          - { id: root, type: mount, device: root-fs, path: / }

        """;

    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static Node N(string name, int mac, string? layout = null, params string[] groups) =>
        new() { Name = name, Macs = [new MacAddress(0x0200_0000_0000UL + (ulong)mac)], Groups = [.. groups], Settings = new() { Layout = layout } };

    [Fact]
    public async Task Set_AddsRevisions_TheLatestIsCurrent_SameTextAddsNone()
    {
        await using var inv = await TempInventory.CreateAsync();
        var (first, added) = await inv.Store.EditAsync(e => e.SetLayoutAsync("Compute", Text(), T0));
        Assert.True(added);
        Assert.Equal(("compute", 1L, 1L), (first.Name, first.Revision, first.Revisions));

        var version = await inv.Store.GetVersionAsync();
        var (same, addedAgain) = await inv.Store.EditAsync(e => e.SetLayoutAsync("compute", Text(), T0.AddHours(1)));
        Assert.False(addedAgain);
        Assert.Equal(1, same.Revision);
        Assert.Equal(version, await inv.Store.GetVersionAsync());

        await inv.Store.EditAsync(e => e.SetLayoutAsync("compute", Text("1GiB"), T0.AddHours(2)));
        var history = await inv.Store.GetLayoutHistoryAsync("compute");
        Assert.Equal([1L, 2L], history.Select(h => h.Revision));
        Assert.Equal(Text(), history[0].Text);
        Assert.Equal(T0, history[0].At);
        Assert.Equal(T0.AddHours(2), history[1].At);

        var current = (await inv.Store.LoadAsync()).Layout("compute")!;
        Assert.Equal((2L, 2L, Text("1GiB")), (current.Revision, current.Revisions, current.Text));
        var parsed = current.Parse();
        Assert.Equal(1L << 30, parsed.OfType<PartitionItem>().Single(p => p.Id == "esp").Size.Bytes);
        Assert.Null((await inv.Store.LoadAsync()).Layout("other"));
        Assert.Empty(await inv.Store.GetLayoutHistoryAsync("other"));
    }

    [Fact]
    public async Task Set_InvalidText_RefusedWithLineAndField_NothingStored()
    {
        await using var inv = await TempInventory.CreateAsync();
        var bad = await Assert.ThrowsAsync<InventoryException>(() =>
            inv.Store.EditAsync(e => e.SetLayoutAsync("compute", Text().Replace("fstype: ext4", "fstype: ext5", StringComparison.Ordinal), T0, "compute.yaml")));
        Assert.Equal(InventoryErrorKind.Invalid, bad.Kind);
        Assert.StartsWith("compute.yaml:7:", bad.Message, StringComparison.Ordinal);
        Assert.Contains("'ext5' is not one of", bad.Message, StringComparison.Ordinal);

        var noRoot = await Assert.ThrowsAsync<InventoryException>(() =>
            inv.Store.EditAsync(e => e.SetLayoutAsync("compute", Text().Replace("path: /", "path: /srv", StringComparison.Ordinal), T0, "compute.yaml")));
        Assert.Contains("no mount of '/'", noRoot.Message, StringComparison.Ordinal);

        var name = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.SetLayoutAsync("no_way", Text(), T0)));
        Assert.Contains("layout name 'no_way'", name.Message, StringComparison.Ordinal);
        var huge = await Assert.ThrowsAsync<InventoryException>(() =>
            inv.Store.EditAsync(e => e.SetLayoutAsync("big", Text() + "#" + new string('x', StoredLayout.MaxTextLength), T0)));
        Assert.Contains("at most", huge.Message, StringComparison.Ordinal);
        Assert.Empty((await inv.Store.LoadAsync()).Layouts);
    }

    [Fact]
    public async Task Setting_ResolvesNodeOverGroupOverDefaults_AndMustNameAStoredLayout()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(async e =>
        {
            await e.SetLayoutAsync("small", Text(), T0);
            await e.SetLayoutAsync("big", Text("1GiB"), T0);
            await e.SetLayoutAsync("site", Text("600MiB"), T0);
            await e.AddGroupAsync(new Group { Name = "gpu", Settings = new() { Layout = "big" } });
            await e.SetDefaultsAsync(new NodeSettings { Layout = "site" });
            await e.AddNodeAsync(N("a", 1, "small", "gpu"));
            await e.AddNodeAsync(N("b", 2, null, "gpu"));
            await e.AddNodeAsync(N("c", 3));
        });
        var snap = await inv.Store.LoadAsync();
        string Of(string node) => $"{snap.Resolve(snap.FindNode(node)!).Layout.Value} from {snap.Resolve(snap.FindNode(node)!).Layout.Origin}";
        Assert.Equal("small from node", Of("a"));
        Assert.Equal("big from group:gpu", Of("b"));
        Assert.Equal("site from defaults", Of("c"));
        Assert.Equal(["node b", "group:gpu"], LayoutUsers.Of(snap, "big"));
        Assert.Equal(["node c", "defaults"], LayoutUsers.Of(snap, "site"));

        foreach (var edit in new Func<InventoryEdit, Task>[]
        {
            e => e.AddNodeAsync(N("d", 4, "ghost")),
            e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Layout = "ghost" } }),
            e => e.EditGroupAsync("gpu", g => g with { Settings = g.Settings with { Layout = "ghost" } }),
            e => e.SetDefaultsAsync(new NodeSettings { Layout = "ghost" }),
        })
        {
            var missing = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(edit));
            Assert.Equal(InventoryErrorKind.NotFound, missing.Kind);
            Assert.Contains("names layout 'ghost', which does not exist", missing.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Remove_InUse_RefusedNamingTheUsers_ForceRemoves_AndUnrelatedEditsStillWork()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(async e =>
        {
            await e.SetLayoutAsync("small", Text(), T0);
            await e.SetLayoutAsync("spare", Text(), T0);
            await e.AddGroupAsync(new Group { Name = "gpu", Settings = new() { Layout = "small" } });
            await e.AddNodeAsync(N("a", 1, null, "gpu"));
        });
        var inUse = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.RemoveLayoutAsync("small", force: false)));
        Assert.Equal(InventoryErrorKind.Conflict, inUse.Kind);
        Assert.Contains("used by node a, group:gpu", inUse.Message, StringComparison.Ordinal);

        await inv.Store.EditAsync(e => e.RemoveLayoutAsync("spare", force: false));
        await inv.Store.EditAsync(e => e.RemoveLayoutAsync("small", force: true));
        var snap = await inv.Store.LoadAsync();
        Assert.Empty(snap.Layouts);
        Assert.Empty(await inv.Store.GetLayoutHistoryAsync("small"));

        // The group still names it (an install refuses it); an edit that leaves the layout alone is not refused.
        Assert.Equal("small", snap.Resolve(snap.FindNode("a")!).Layout.Value);
        Assert.Null(snap.Layout("small"));
        await inv.Store.EditAsync(e => e.EditGroupAsync("gpu", g => g with { Description = "still fine" }));
        var gone = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.RemoveLayoutAsync("small", force: true)));
        Assert.Equal(InventoryErrorKind.NotFound, gone.Kind);
    }

    private static string Indented(string text, int spaces) =>
        string.Join('\n', text.TrimEnd('\n').Split('\n').Select(l => new string(' ', spaces) + l)) + "\n";

    [Fact]
    public async Task Apply_InlineItemsLiteralAndFileLayouts_StoredBeforeTheNodes_ReapplyIsNoop()
    {
        await using var inv = await TempInventory.CreateAsync();
        var dir = Path.Combine(inv.Directory, "site");
        Directory.CreateDirectory(Path.Combine(dir, "layouts"));
        await File.WriteAllTextAsync(Path.Combine(dir, "layouts", "file.yaml"), Text("700MiB"));
        var items = string.Join('\n', Text().Split('\n').SkipWhile(l => !l.StartsWith("items:", StringComparison.Ordinal)).Skip(1));
        var cluster = "version: 1\nlayouts:\n  inline:\n" + Indented(Text(), 4)
            + "  items-only:\n" + Indented(items, 2)
            + "  literal: |\n" + Indented(Text("800MiB"), 4)
            + "  from-file: { file: layouts/file.yaml }\n"
            + "defaults:\n  layout: inline\n"
            + "groups:\n  - name: gpu\n    layout: from-file\n"
            + "nodes:\n  - name: a\n    mac: 02:00:00:00:00:01\n    layout: literal\n    group: gpu\n";
        (string, string) Read(string path) => (File.ReadAllText(Path.Combine(dir, path)), path);

        var plan = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(cluster, "cluster.yaml", Read), prune: false, dryRun: false);
        Assert.Equal(4, plan.Changes.Count(c => c is { Kind: ChangeKind.Add, Entity: "layout" }));
        var snap = await inv.Store.LoadAsync();
        Assert.Equal(Text(), snap.Layout("inline")!.Text);
        Assert.Equal(Text("800MiB"), snap.Layout("literal")!.Text);
        Assert.Equal(Text("700MiB"), snap.Layout("from-file")!.Text);
        Assert.Equal(6, snap.Layout("items-only")!.Parse().Items.Count);
        Assert.Equal(("literal", "node"), (snap.Resolve(snap.FindNode("a")!).Layout.Value, snap.Resolve(snap.FindNode("a")!).Layout.Origin));
        Assert.Equal("from-file", snap.FindGroup("gpu")!.Settings.Layout);
        Assert.Equal("inline", snap.Defaults.Layout);

        var noop = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(cluster, "cluster.yaml", Read), prune: false, dryRun: false);
        Assert.True(noop.IsEmpty, string.Join("; ", noop.Changes));

        // The export writes layouts as literal blocks: applied elsewhere, then back here, nothing changes.
        var exported = InventoryYaml.Write(InventoryDocument.FromSnapshot(snap));
        var back = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(exported), prune: true, dryRun: false);
        Assert.True(back.IsEmpty, string.Join("; ", back.Changes));

        // A changed layout is a new revision.
        await File.WriteAllTextAsync(Path.Combine(dir, "layouts", "file.yaml"), Text("900MiB"));
        var changed = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(cluster, "cluster.yaml", Read), prune: false, dryRun: false);
        Assert.Contains(changed.Changes, c => c is { Kind: ChangeKind.Change, Entity: "layout", Name: "from-file" } && c.Details[0] == "revision 1 -> 2");
        Assert.Equal(2, (await inv.Store.LoadAsync()).Layout("from-file")!.Revision);
    }

    [Fact]
    public void Apply_InlineLayoutErrors_NameTheClusterFilesLine()
    {
        var cluster = "version: 1\nlayouts:\n  inline:\n" + Indented(Text().Replace("fstype: ext4", "fstype: ext5", StringComparison.Ordinal), 4);
        var bad = Assert.Throws<InventoryException>(() => InventoryYaml.Parse(cluster, "cluster.yaml"));
        Assert.StartsWith("cluster.yaml:10:", bad.Message, StringComparison.Ordinal);
        Assert.Contains("'ext5' is not one of", bad.Message, StringComparison.Ordinal);

        var items = "version: 1\nlayouts:\n  short:\n    - { id: d, type: disk, match: { first: true } }\n    - { id: p, type: partition, disk: x, size: rest }\n";
        var badRef = Assert.Throws<InventoryException>(() => InventoryYaml.Parse(items, "cluster.yaml"));
        Assert.StartsWith("cluster.yaml:5: partition 'p': disk 'x' names no earlier item", badRef.Message, StringComparison.Ordinal);

        var file = Assert.Throws<InventoryException>(() => InventoryYaml.Parse("layouts:\n  x: { file: a.yaml }\n", "cluster.yaml"));
        Assert.StartsWith("cluster.yaml:2:", file.Message, StringComparison.Ordinal);
        Assert.Contains("write the layout inline", file.Message, StringComparison.Ordinal);

        var scalar = Assert.Throws<InventoryException>(() => InventoryYaml.Parse("layouts:\n  x: small\n", "cluster.yaml"));
        Assert.StartsWith("cluster.yaml:2:6:", scalar.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_LayoutSettingNamingNoLayout_RefusedAtItsLine()
    {
        await using var inv = await TempInventory.CreateAsync();
        var doc = InventoryYaml.Parse("nodes:\n  - name: a\n    mac: 02:00:00:00:00:01\n    layout: ghost\n", "cluster.yaml");
        var e = await Assert.ThrowsAsync<InventoryException>(() => InventoryApplier.ApplyAsync(inv.Store, doc, prune: false, dryRun: true));
        Assert.Equal(InventoryErrorKind.NotFound, e.Kind);
        Assert.StartsWith("cluster.yaml:4:5: node 'a' names layout 'ghost'", e.Message, StringComparison.Ordinal);
        Assert.Empty((await inv.Store.LoadAsync()).Nodes);
    }
}
