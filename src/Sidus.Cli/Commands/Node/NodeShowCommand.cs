using Shapes = Sidus.Nodes.Json.InventoryJson;
using Spectre.Console;

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
            var table = new Table().AddColumns("SETTING", "VALUE", "FROM");
            table.AddRow("image", Markup.Escape(e.Image.Value ?? "-"), Markup.Escape(e.Image.Origin));
            table.AddRow("mode", e.Mode.Value.ToText(), Markup.Escape(e.Mode.Origin));
            table.AddRow("kernel-args", Markup.Escape(e.KernelArgs.Value ?? "-"), Markup.Escape(e.KernelArgs.Origin));
            foreach (var (k, v) in e.Tags)
            {
                table.AddRow(Markup.Escape("tag " + k), Markup.Escape(v.Value), Markup.Escape(v.Origin));
            }

            AnsiConsole.Write(table);
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
