using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node list`: every node with its effective image and mode.</summary>
public static class NodeListCommand
{
    public static Command Create(Option<string?> db)
    {
        var group = new Option<string?>("--group") { Description = "Only the nodes in this group", HelpName = "GROUP" };
        var json = GlobalOptions.Json();
        var cmd = new Command("list", "List nodes: name, MACs, address, groups, and the image and mode they boot with") { group, json };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            var filter = r.GetValue(group)?.ToLowerInvariant();
            if (filter is not null && snap.FindGroup(filter) is null)
            {
                return InventoryCli.Error($"no group is named '{filter}' (`sidus group list` shows the groups)", InventoryCli.NotFound);
            }

            var nodes = snap.Nodes.Where(n => filter is null || n.Groups.Contains(filter)).ToList();
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. nodes.Select(n => (JsonNode?)Shapes.Node(n, snap.Resolve(n)))]));
                return InventoryCli.Ok;
            }

            if (nodes.Count == 0)
            {
                Console.Out.WriteLine(filter is null ? "no nodes yet: add one with `sidus node add NAME --mac MAC`" : $"no node is in group {filter}");
                return InventoryCli.Ok;
            }

            var table = new TextTable("NAME", "MACS", "IP", "GROUPS", "IMAGE", "MODE");
            foreach (var n in nodes)
            {
                var e = snap.Resolve(n);
                table.AddRow(
                    n.Name, string.Join(",", n.Macs), n.Ip?.ToString() ?? "-", string.Join(",", n.Groups),
                    e.Image.Value ?? "-", e.Mode.Value.ToText());
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
