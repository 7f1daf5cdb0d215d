using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Group;

public static class GroupListCommand
{
    public static Command Create(Option<string?> db)
    {
        var json = GlobalOptions.Json();
        var cmd = new Command("list", "List groups with their settings and how many nodes are in each") { json };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            int Count(Sidus.Nodes.Group g) => snap.Nodes.Count(n => n.Groups.Contains(g.Name));
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. snap.Groups.Select(g => (JsonNode?)Shapes.Group(g, Count(g)))]));
                return InventoryCli.Ok;
            }

            if (snap.Groups.IsEmpty)
            {
                Console.Out.WriteLine("no groups yet: add one with `sidus group add NAME`");
                return InventoryCli.Ok;
            }

            var table = new TextTable("NAME", "NODES", "IMAGE", "MODE", "KERNEL ARGS", "TAGS", "DESCRIPTION");
            foreach (var g in snap.Groups)
            {
                var s = g.Settings;
                table.AddRow(
                    g.Name, Count(g).ToString(CultureInfo.InvariantCulture), s.Image ?? "-", s.Mode?.ToText() ?? "-",
                    s.KernelArgs ?? "-", string.Join(",", s.Tags.Select(t => $"{t.Key}={t.Value}")),
                    g.Description ?? "");
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
