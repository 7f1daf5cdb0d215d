namespace Sidus.Cli.Commands.Token;

public static class TokenCreateCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "A name for the token (who or what uses it), like a node name" };
        var expires = new Option<string?>("--expires")
        {
            Description = "Lifetime: a number with s, m, h or d (90m, 12h, 30d); default: no expiry",
            HelpName = "DURATION",
        };
        var json = GlobalOptions.Json();
        var cmd = new Command("create", "Make an admin token and print it (once: only its hash is kept)") { name, expires, json };
        cmd.SetAction((ParseResult r, CancellationToken ct) =>
        {
            TimeSpan? lifetime = null;
            if (r.GetValue(expires) is { } text)
            {
                if (TokenDuration.Parse(text) is not { } parsed)
                {
                    return Task.FromResult(InventoryCli.Error($"--expires '{text}' is not a duration: write a number with s, m, h or d, like 12h or 30d"));
                }

                lifetime = parsed;
            }

            return InventoryCli.RunAsync(r, db, ct, async store =>
            {
                var now = DateTimeOffset.UtcNow;
                var (token, secret) = await store.EditAsync(e => e.AddAdminTokenAsync(r.GetValue(name)!, now, now + lifetime), ct);
                if (r.GetValue(json))
                {
                    var o = TokenListCommand.Json(token);
                    o["token"] = secret;
                    InventoryJson.Print(o);
                    return InventoryCli.Ok;
                }

                Console.Out.WriteLine(secret);
                Console.Error.WriteLine(
                    $"sidus: token '{token.Name}' made{(token.Expires is { } x ? ", expires " + x.ToString("u", CultureInfo.InvariantCulture) : "")}; "
                    + "it is shown only now: keep it");
                return InventoryCli.Ok;
            });
        });
        return cmd;
    }
}

/// <summary>"90m", "12h", "30d", "3600s": a token's lifetime.</summary>
public static class TokenDuration
{
    /// <summary>Longest lifetime accepted (ten years): beyond it, no expiry is the honest setting.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3650);

    public static TimeSpan? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
        {
            's' when n <= Max.TotalSeconds => TimeSpan.FromSeconds(n),
            'm' when n <= Max.TotalMinutes => TimeSpan.FromMinutes(n),
            'h' when n <= Max.TotalHours => TimeSpan.FromHours(n),
            'd' when n <= Max.TotalDays => TimeSpan.FromDays(n),
            _ => null,
        };
        return span;
    }
}
