using Sidus.Nodes.Layouts;
using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout set NAME FILE`: stores a checked layout as the new revision of NAME.</summary>
public static class LayoutSetCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The layout's name (a DNS label: a-z, 0-9, '-')" };
        var file = new Argument<string>("file") { Description = "The layout file (YAML); - reads stdin" };
        var json = GlobalOptions.Json();
        var cmd = new Command("set", """
            Store a layout in the inventory under NAME, as its new revision (the first makes it). The file is
            checked as `sidus layout check` checks it (errors name the file, line and field) and nothing is
            stored unless it is valid. The same text as the current revision adds none. Nodes, groups and the
            defaults name it with --layout NAME; the latest revision is the one an install uses.
              sidus layout set compute compute.yaml
            Exit codes: 0 stored (or unchanged), 1 not valid.
            """)
        {
            name, file, db, json,
        };
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var path = r.GetValue(file)!;
            if (await InventoryCli.ReadInputAsync(path, ct) is not ({ } text, { } shown))
            {
                return InventoryCli.Usage;
            }

            return await InventoryCli.RunAsync(r, db, ct, async store =>
            {
                var (stored, added) = await store.EditAsync(
                    e => e.SetLayoutAsync(r.GetValue(name)!, text, DateTimeOffset.UtcNow, shown), ct);
                var layout = StoredLayout.Check(text, shown);
                foreach (var warning in layout.Warnings)
                {
                    Console.Error.WriteLine("warning: " + warning);
                }

                if (r.GetValue(json))
                {
                    var snap = await store.LoadAsync(ct);
                    InventoryJson.Print(Shapes.Layout(stored, LayoutUsers.Of(snap, stored.Name), withText: false));
                }
                else
                {
                    Console.Out.WriteLine(added
                        ? $"stored layout {stored.Name} revision {stored.Revision} ({layout.Items.Count} items)"
                        : $"layout {stored.Name} unchanged (revision {stored.Revision} has this text)");
                }

                return InventoryCli.Ok;
            });
        });
        return cmd;
    }
}
