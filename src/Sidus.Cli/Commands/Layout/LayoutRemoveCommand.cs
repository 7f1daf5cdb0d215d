using Sidus.Nodes.Layouts;
namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout rm NAME [--force]`: removes a stored layout with its history.</summary>
public static class LayoutRemoveCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The layout to remove" };
        var force = new Option<bool>("--force", "-f")
        {
            Description = "Remove it even while nodes, groups or the defaults use it (their installs then refuse until they name another)",
        };
        var cmd = new Command("rm", """
            Remove a stored layout and all its revisions. Refused while a node's layout is this one (its own,
            its group's or the defaults'), or a group or the defaults set it, naming them; unless --force.
            Exit codes: 0 removed, 2 no such layout, 3 in use.
            """)
        {
            name, force, db,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var key = r.GetValue(name)!.ToLowerInvariant();
            var users = LayoutUsers.Of(await store.LoadAsync(ct), key);
            await store.EditAsync(e => e.RemoveLayoutAsync(key, r.GetValue(force)), ct);
            if (users.Count > 0)
            {
                Console.Error.WriteLine($"sidus: warning: removed layout {key} used by {LayoutUsers.Describe(users)}: their installs refuse until changed");
            }

            Console.Out.WriteLine($"removed layout {key}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
