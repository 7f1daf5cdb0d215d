namespace Sidus.Cli.Commands.Group;

public static class GroupSetCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The group to change" };
        var description = new Option<string?>("--description") { Description = "New description", HelpName = "TEXT" };
        var clearDescription = new Option<bool>("--clear-description") { Description = "Remove the description" };
        var settings = new SettingsOptions(withClear: true);
        var cmd = new Command("set", "Change a group; options not given leave that part alone, --clear-* unsets a setting (its nodes then inherit the defaults)")
        {
            name, description, clearDescription,
        };
        settings.AddTo(cmd);
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            if (!settings.AnyGiven(r) && r.GetValue(description) is null && !r.GetValue(clearDescription))
            {
                return InventoryCli.Error("nothing to change: give at least one option (see `sidus group set --help`)");
            }

            var updated = await store.EditAsync(e => e.EditGroupAsync(r.GetValue(name)!, g => g with
            {
                Description = r.GetValue(clearDescription) ? null : r.GetValue(description) ?? g.Description,
                Settings = settings.Apply(r, g.Settings),
            }), ct);
            Console.Out.WriteLine($"updated group {updated.Name} (revision {updated.Revision})");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
