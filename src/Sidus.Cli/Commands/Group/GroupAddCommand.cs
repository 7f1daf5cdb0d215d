namespace Sidus.Cli.Commands.Group;

public static class GroupAddCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "Group name (a DNS label)" };
        var description = new Option<string?>("--description") { Description = "What the group is for", HelpName = "TEXT" };
        var settings = new SettingsOptions(withClear: false);
        var cmd = new Command("add", "Add a group: sidus group add compute --image debian@3 --mode shared --tag role=compute") { name, description };
        settings.AddTo(cmd);
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var group = new Sidus.Nodes.Group { Name = r.GetValue(name)!, Description = r.GetValue(description), Settings = settings.Apply(r, NodeSettings.Empty) };
            var added = await store.EditAsync(e => e.AddGroupAsync(group), ct);
            Console.Out.WriteLine($"added group {added.Name}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
