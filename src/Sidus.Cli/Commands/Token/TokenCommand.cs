namespace Sidus.Cli.Commands.Token;

/// <summary>`sidus token ...`: admin tokens for the HTTP API.</summary>
public static class TokenCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var cmd = new Command("token", """
            Manage admin tokens for the HTTP API of `sidus serve`: every change over HTTP (POST /api/apply) and,
            unless [api] public-reads is on, every read of the inventory needs one, sent as
            'Authorization: Bearer TOKEN'. The inventory keeps only a hash of each token: the token itself is
            shown once, when it is made. A new or revoked token takes effect on the server within a second.
            Exit codes: 0 ok, 1 invalid input, 2 not found, 3 conflict (name taken).
            """)
        {
            db,
        };
        cmd.Subcommands.Add(TokenCreateCommand.Create(db));
        cmd.Subcommands.Add(TokenListCommand.Create(db));
        cmd.Subcommands.Add(TokenRevokeCommand.Create(db));
        return cmd;
    }
}
