using Sidus.Nodes.Layouts;
using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout show NAME [--revision N]`: prints a stored layout's YAML.</summary>
public static class LayoutShowCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The layout" };
        var revision = new Option<long?>("--revision") { Description = "Print this revision (default: the current, latest one)", HelpName = "N" };
        var json = GlobalOptions.Json();
        var cmd = new Command("show", """
            Print a stored layout's YAML, as it was given, at its current revision or at --revision N; the
            revision, when it was stored and who uses the layout go to stderr (with --json, all in one object:
            name, revision, revisions, updated, usedBy, text). `sidus layout show NAME > FILE` and
            `sidus layout check FILE --disk-size 500G` plan it.
            """)
        {
            name, revision, db, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var key = r.GetValue(name)!.ToLowerInvariant();
            var history = await store.GetLayoutHistoryAsync(key, ct);
            if (history.Count == 0)
            {
                return InventoryCli.Error($"no layout is named '{key}' (`sidus layout list` shows the layouts)", InventoryCli.NotFound);
            }

            var wanted = r.GetValue(revision) ?? history[^1].Revision;
            if (history.FirstOrDefault(l => l.Revision == wanted) is not { } layout)
            {
                return InventoryCli.Error($"layout '{key}' has no revision {wanted} (it has 1 to {history[^1].Revision})", InventoryCli.NotFound);
            }

            var users = LayoutUsers.Of(await store.LoadAsync(ct), key);
            if (r.GetValue(json))
            {
                InventoryJson.Print(Shapes.Layout(layout, users, withText: true));
                return InventoryCli.Ok;
            }

            Console.Error.WriteLine(
                $"# layout {layout.Name} revision {layout.Revision} of {layout.Revisions}, stored {Units.Time(layout.At)}, "
                + (users.Count == 0 ? "unused" : $"used by {LayoutUsers.Describe(users)}"));
            Console.Out.Write(layout.Text.EndsWith('\n') ? layout.Text : layout.Text + "\n");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
