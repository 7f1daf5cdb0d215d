using Sidus.Nodes.Yaml;
using Sidus.Wire.Contracts;

namespace Sidus.Nodes.Tests;

public class YamlTests
{
    private const string Cluster = """
        version: 1
        defaults:
          image: debian@3
          kernel-args: "console=ttyS0,115200"
          tags: { site: lyon }
        networks:
          - name: lab
            subnet: 10.0.0.0/24
            unknown: discover
            group: compute
        groups:
          - name: compute
            description: "CPU nodes: the bulk"
            mode: shared
            tags:
              role: compute
          - name: gpu
            image: cuda:stable
        nodes:
          - name: node001
            mac: 02:00:00:00:00:01
            ip: 10.0.0.10
            groups: [gpu, compute]
            tags: { rack: "r1" }
          - name: node002
            macs: [02-00-00-00-00-02, 020000000003]
            group: compute
            mode: install
        """;

    [Fact]
    public async Task Apply_ThenExport_RoundTripsAndReapplyIsNoop()
    {
        await using var inv = await TempInventory.CreateAsync();
        var doc = InventoryYaml.Parse(Cluster);
        var plan = await InventoryApplier.ApplyAsync(inv.Store, doc, prune: false, dryRun: false);
        Assert.True(plan.Applied);
        Assert.Equal(5, plan.Count(ChangeKind.Add));

        var snap = await inv.Store.LoadAsync();
        var n1 = snap.FindNode("node001")!;
        var eff = snap.Resolve(n1);
        Assert.Equal(("cuda:stable", "group:gpu"), (eff.Image.Value, eff.Image.Origin));
        Assert.Equal((BootMode.Shared, "group:compute"), (eff.Mode.Value, eff.Mode.Origin));
        Assert.Equal(("console=ttyS0,115200", "defaults"), (eff.KernelArgs.Value, eff.KernelArgs.Origin));
        Assert.Equal(2, snap.FindNode("node002")!.Macs.Length);

        var exported = InventoryYaml.Write(InventoryDocument.FromSnapshot(snap));

        await using var other = await TempInventory.CreateAsync();
        await InventoryApplier.ApplyAsync(other.Store, InventoryYaml.Parse(exported), prune: false, dryRun: false);
        var again = InventoryYaml.Write(InventoryDocument.FromSnapshot(await other.Store.LoadAsync()));
        Assert.Equal(exported, again);

        var noop = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(exported), prune: true, dryRun: false);
        Assert.True(noop.IsEmpty, string.Join("; ", noop.Changes));
    }

    [Fact]
    public async Task Apply_DryRun_ShowsChangesAndStoresNothing()
    {
        await using var inv = await TempInventory.CreateAsync();
        var v = await inv.Store.GetVersionAsync();
        var plan = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(Cluster), prune: false, dryRun: true);
        Assert.False(plan.Applied);
        Assert.Contains(plan.Changes, c => c is { Kind: ChangeKind.Add, Entity: "node", Name: "node002" });
        Assert.Empty((await inv.Store.LoadAsync()).Nodes);
        Assert.Equal(v, await inv.Store.GetVersionAsync());
    }

    [Fact]
    public async Task Apply_PruneAndSwapMacs_InOneTransaction()
    {
        await using var inv = await TempInventory.CreateAsync();
        await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(Cluster), prune: false, dryRun: false);
        const string Next = """
            groups:
              - name: compute
            nodes:
              - name: node001
                macs: [02:00:00:00:00:02]
                groups: [compute]
              - name: node002
                macs: [02:00:00:00:00:01]
                ip: 10.0.0.10
            """;
        var plan = await InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(Next), prune: true, dryRun: false);
        Assert.Contains(plan.Changes, c => c is { Kind: ChangeKind.Remove, Entity: "group", Name: "gpu" });
        Assert.Contains(plan.Changes, c => c is { Kind: ChangeKind.Remove, Entity: "network", Name: "lab" });
        var snap = await inv.Store.LoadAsync();
        Assert.Equal("node002", snap.FindByMac(MacAddress.Parse("02:00:00:00:00:01"))!.Name);
        Assert.Equal("node001", snap.FindByMac(MacAddress.Parse("02:00:00:00:00:02"))!.Name);
        Assert.Null(snap.FindByMac(MacAddress.Parse("02:00:00:00:00:03")));
        Assert.Equal("10.0.0.10", snap.FindNode("node002")!.Ip!.ToString());
        Assert.Null(snap.FindGroup("gpu"));
        Assert.Equal(NodeSettings.Empty, snap.Defaults);
    }

    [Fact]
    public async Task Apply_ConflictWithUnmentionedNode_NothingApplied()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(new Node { Name = "old", Macs = [MacAddress.Parse("02:00:00:00:00:01")] }));
        var e = await Assert.ThrowsAsync<InventoryException>(() =>
            InventoryApplier.ApplyAsync(inv.Store, InventoryYaml.Parse(Cluster), prune: false, dryRun: false));
        Assert.Equal(InventoryErrorKind.Conflict, e.Kind);
        Assert.Contains("node 'old'", e.Message, StringComparison.Ordinal);
        Assert.Empty((await inv.Store.LoadAsync()).Groups);
    }

    [Theory]
    [InlineData("nodes:\n  - name: a\n    mac: 02:00:00:00:00:01\n    imgae: x\n", "4:5", "unknown key 'imgae'")]
    [InlineData("nodes:\n  - name: a\n    mac: nope\n", "3:10", "not a MAC")]
    [InlineData("nodes:\n  - name: a\n    mac: 02:00:00:00:00:01\n    kernel-args: \"a\\nb\"\n", "2:5", "newline")]
    [InlineData("nodes: [a, b\n", "", "not valid YAML")]
    [InlineData("version: 2\n", "1:10", "version 1")]
    [InlineData("groups:\n  name: x\n", "2:3", "must be a list")]
    public void Parse_BadInput_ErrorWithPosition(string yaml, string position, string message)
    {
        var e = Assert.Throws<InventoryException>(() => InventoryYaml.Parse(yaml, "c.yaml"));
        Assert.Equal(InventoryErrorKind.Invalid, e.Kind);
        Assert.StartsWith("c.yaml:" + position, e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckDocument_SameMacTwoNodes_NamesBoth()
    {
        var doc = InventoryYaml.Parse("nodes:\n  - name: a\n    mac: 02:00:00:00:00:01\n  - name: b\n    mac: 02:00:00:00:00:01\n");
        var e = Assert.Throws<InventoryException>(() => InventoryApplier.CheckDocument(doc));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
    }
}
