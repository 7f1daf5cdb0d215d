using Sidus.Nodes.Layouts;
using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout list`: the stored layouts, their revisions and users.</summary>
public static class LayoutListCommand
{
    public static Command Create(Option<string?> db)
    {
        var json = GlobalOptions.Json();
        var cmd = new Command("list", """
            List the layouts stored in the inventory: name, current revision, how many revisions, when the
            current one was stored, and how many use it (nodes whose layout it is, groups and the defaults that
            set it).
            """)
        {
            db, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. snap.Layouts.Select(l => (JsonNode?)Shapes.Layout(l, LayoutUsers.Of(snap, l.Name), withText: false))]));
                return InventoryCli.Ok;
            }

            if (snap.Layouts.IsEmpty)
            {
                Console.Out.WriteLine("no layouts yet: store one with `sidus layout set NAME FILE`");
                return InventoryCli.Ok;
            }

            var table = new TextTable("NAME", "REVISION", "REVISIONS", "UPDATED", "USED BY");
            foreach (var l in snap.Layouts)
            {
                table.AddRow(
                    l.Name, l.Revision.ToString(CultureInfo.InvariantCulture), l.Revisions.ToString(CultureInfo.InvariantCulture),
                    Units.Time(l.At), LayoutUsers.Of(snap, l.Name).Count.ToString(CultureInfo.InvariantCulture));
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
