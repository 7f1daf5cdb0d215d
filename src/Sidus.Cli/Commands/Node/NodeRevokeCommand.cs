namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node revoke NAME...`: every credential the nodes hold now stops working (docs/node-access.md).</summary>
public static class NodeRevokeCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Nodes whose credentials to revoke", Arity = ArgumentArity.OneOrMore };
        var json = GlobalOptions.Json();
        var cmd = new Command("revoke", """
            Revoke every credential the nodes were given before now: boot tickets not yet used and the sessions of
            running nodes. The server refuses them within its inventory poll interval; the node's content, NBD root,
            overrides and events are then closed to it until it boots again (a new boot gets a new ticket). Shown
            by `sidus node status`. All named nodes, or none.
            """)
        {
            names, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var list = r.GetValue(names)!.Select(n => n.ToLowerInvariant()).ToList();
            var at = DateTimeOffset.UtcNow;
            await store.EditAsync(async e =>
            {
                foreach (var n in list)
                {
                    await e.RevokeCredentialsAsync(n, at);
                }
            }, ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonObject
                {
                    ["revoked"] = new JsonArray([.. list.Select(n => (JsonNode?)n)]),
                    ["at"] = at.ToString("O", CultureInfo.InvariantCulture),
                });
            }
            else
            {
                Console.Out.WriteLine($"revoked the credentials of {string.Join(", ", list)} issued before {at:u}");
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
