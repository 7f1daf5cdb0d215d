namespace Sidus.Cli.Commands.Token;

public static class TokenRevokeCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The token to revoke" };
        var cmd = new Command("revoke", "Revoke an admin token: the server refuses it from its next inventory reload on") { name };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            await store.EditAsync(e => e.RemoveAdminTokenAsync(r.GetValue(name)!), ct);
            Console.Out.WriteLine($"revoked token {r.GetValue(name)!.ToLowerInvariant()}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
