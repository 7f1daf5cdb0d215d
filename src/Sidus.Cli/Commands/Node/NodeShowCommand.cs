using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node show NAME`: one node and its effective settings, each with where it came from.</summary>
public static class NodeShowCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "Node name, or one of its MAC addresses" };
        var json = GlobalOptions.Json();
        var cmd = new Command("show", "Show a node: MACs, address, groups, and each effective setting with its origin (node, group:NAME, defaults, built-in)")
        {
            name, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            var key = r.GetValue(name)!;
            if (InventoryCli.FindNodeByNameOrMac(snap, key) is not { } node)
            {
                return InventoryCli.NoSuchNode(key);
            }

            var e = snap.Resolve(node);
            if (r.GetValue(json))
            {
                InventoryJson.Print(Shapes.Node(node, e));
                return InventoryCli.Ok;
            }

            Console.Out.WriteLine($"node      {node.Name}");
            Console.Out.WriteLine($"macs      {string.Join(" ", node.Macs)}");
            Console.Out.WriteLine($"ip        {node.Ip?.ToString() ?? "- (from the pool)"}");
            Console.Out.WriteLine($"groups    {(node.Groups.Length == 0 ? "-" : string.Join(", ", node.Groups))}");
            Console.Out.WriteLine($"revision  {node.Revision}");
            var table = new TextTable("SETTING", "VALUE", "FROM");
            table.AddRow("image", e.Image.Value ?? "-", e.Image.Origin);
            table.AddRow("mode", e.Mode.Value.ToText(), e.Mode.Origin);
            table.AddRow("kernel-args", e.KernelArgs.Value ?? "-", e.KernelArgs.Origin);
            table.AddRow("layout", e.Layout.Value is { } l ? l + (snap.Layout(l) is null ? " (not stored)" : string.Empty) : "-", e.Layout.Origin);
            foreach (var (k, v) in e.Tags)
            {
                table.AddRow("tag " + k, v.Value, v.Origin);
            }

            // Besides the built-in ones and the image's /etc/sidus/update.exclude (docs/installed-nodes.md).
            foreach (var x in e.UpdateExcludes)
            {
                table.AddRow("update-exclude", x.Value, x.Origin);
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
