using Sidus.Nodes.Access;

namespace Sidus.Cli.Commands.Token;

public static class TokenListCommand
{
    public static Command Create(Option<string?> db)
    {
        var json = GlobalOptions.Json();
        var cmd = new Command("list", "List admin tokens: name, made, expires, last used (never the token itself)") { json };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var tokens = await store.ListAdminTokensAsync(ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. tokens.Select(t => (JsonNode?)Json(t))]));
                return InventoryCli.Ok;
            }

            if (tokens.Count == 0)
            {
                Console.Out.WriteLine("no admin tokens: make one with `sidus token create NAME`");
                return InventoryCli.Ok;
            }

            var now = DateTimeOffset.UtcNow;
            var table = new TextTable("NAME", "CREATED", "EXPIRES", "LAST USED");
            foreach (var t in tokens)
            {
                table.AddRow(
                    t.Name, Time(t.Created),
                    t.Expires is null ? "never" : Time(t.Expires) + (t.IsExpired(now) ? " (expired)" : ""),
                    t.LastUsed is null ? "never" : Time(t.LastUsed));
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }

    /// <summary>A token for scripts: its name and times, never its hash or secret.</summary>
    public static JsonObject Json(AdminToken t) => new()
    {
        ["name"] = t.Name,
        ["created"] = t.Created.ToString("O", CultureInfo.InvariantCulture),
        ["expires"] = t.Expires?.ToString("O", CultureInfo.InvariantCulture),
        ["expired"] = t.IsExpired(DateTimeOffset.UtcNow),
        ["lastUsed"] = t.LastUsed?.ToString("O", CultureInfo.InvariantCulture),
    };

    private static string Time(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
}
