using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Http;

namespace Sidus.Server.Access;

/// <summary>
/// The HTTP side of node credentials: which credential a request carries (the session as <c>Authorization:
/// Bearer</c>, a ticket as <c>?ticket=</c> on boot files), the one check every node route makes
/// (<see cref="RequireAsync"/>), and the claim route.
/// </summary>
internal static class NodeAuthorization
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost(NodeRoutes.Claim, ClaimAsync);

    /// <summary>
    /// Decides NEED for this request. Allowed: the decision (its token names the version and node). Refused: the
    /// answer (401 or 403 with the reason) is sent and logged, and null is returned.
    /// </summary>
    public static async Task<AccessDecision?> RequireAsync(HttpContext ctx, AccessNeed need)
    {
        // An administrator's token (sidus token create, AdminAccess) opens every version and node route. Its prefix
        // tells it from a node session, so a session is never logged as a refused admin token.
        var client = HttpHelpers.Client(ctx);
        if (Credential(ctx, tickets: false) is { } bearer && bearer.StartsWith(Sidus.Nodes.Access.AdminTokenSecret.Prefix, StringComparison.Ordinal))
        {
            var verdict = AdminAccess.Check(ctx);
            if (verdict.IsAdmin)
            {
                return new AccessDecision(true, StatusCodes.Status200OK, $"admin token {verdict.TokenName}");
            }

            await HttpHelpers.RefuseAsync(ctx, verdict.Status, verdict.Reason);
            return null;
        }

        var access = ctx.RequestServices.GetRequiredService<NodeAccess>();
        var decision = access.Check(Credential(ctx, need.Ticket), client, need);
        if (decision.Allowed)
        {
            return decision;
        }

        ServerLog.CredentialRefused(Log(ctx), client?.ToString() ?? "?", need.What, decision.Reason);
        await HttpHelpers.RefuseAsync(ctx, decision.Status, decision.Reason);
        return null;
    }

    /// <summary>The session of the Authorization header, else (when TICKETS) the ticket of the query; null when neither.</summary>
    public static string? Credential(HttpContext ctx, bool tickets)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        var prefix = NodeCredentials.Scheme + " ";
        if (header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return header[prefix.Length..].Trim();
        }

        return tickets && ctx.Request.Query[NodeCredentials.TicketParameter] is { Count: 1 } q ? q[0] : null;
    }

    private static async Task ClaimAsync(HttpContext ctx)
    {
        var client = HttpHelpers.Client(ctx);
        string ticket;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
        {
            var buffer = new char[NodeCredentials.MaxLength + 1];
            var n = await reader.ReadBlockAsync(buffer, ctx.RequestAborted);
            ticket = new string(buffer, 0, n).Trim();
        }

        var (session, decision) = await ctx.RequestServices.GetRequiredService<NodeAccess>().ClaimAsync(ticket.Length == 0 ? null : ticket, client, ctx.RequestAborted);
        if (session is null)
        {
            ServerLog.CredentialRefused(Log(ctx), client?.ToString() ?? "?", "a boot claim", decision.Reason);
            await HttpHelpers.RefuseAsync(ctx, decision.Status, decision.Reason);
            return;
        }

        ServerLog.CredentialClaimed(Log(ctx), decision.Reason);
        await HttpHelpers.TextAsync(ctx, session + "\n");
    }

    private static ILogger Log(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Access");
}
