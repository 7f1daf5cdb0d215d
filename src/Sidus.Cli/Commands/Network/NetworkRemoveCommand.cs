namespace Sidus.Cli.Commands.Network;

public static class NetworkRemoveCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The network to remove" };
        var cmd = new Command("rm", "Remove a network (its machines that are no node fall to another network's policy, else get an address only)") { name };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            await store.EditAsync(e => e.RemoveNetworkAsync(r.GetValue(name)!), ct);
            Console.Out.WriteLine($"removed network {r.GetValue(name)!.ToLowerInvariant()}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
