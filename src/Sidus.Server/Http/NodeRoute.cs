using Sidus.Server.Access;

namespace Sidus.Server.Http;

/// <summary>The node a /api/nodes/{mac}/... route names, when the caller is that node (its own credential) or an admin.</summary>
internal static class NodeRoute
{
    /// <summary>The node of the route's MAC and the credential's decision; else the refusal is answered and null given.</summary>
    /// <param name="what">What is asked for, for a refusal: "the install plan" (" of NODE" is added).</param>
    public static async Task<(Node Node, AccessDecision Decision)?> RequireAsync(HttpContext ctx, string what)
    {
        var text = ctx.Request.RouteValues["mac"] as string;
        if (!MacAddress.TryParse(text, out var mac))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{text}' is not a MAC address");
            return null;
        }

        if (ctx.RequestServices.GetRequiredService<InventoryView>().Current.FindByMac(mac) is not { } node)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no node has MAC {mac}");
            return null;
        }

        return await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"{what} of {node.Name}", Node: node.Name)) is { } decision ? (node, decision) : null;
    }
}
