namespace Sidus.Cli.Commands.Group;

public static class GroupRemoveCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The group to remove" };
        var force = new Option<bool>("--force") { Description = "Remove it even while nodes use it (they leave the group)" };
        var cmd = new Command("rm", "Remove a group; refused while nodes use it (exit 3) unless --force") { name, force };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            await store.EditAsync(e => e.RemoveGroupAsync(r.GetValue(name)!, r.GetValue(force)), ct);
            Console.Out.WriteLine($"removed group {r.GetValue(name)!.ToLowerInvariant()}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
