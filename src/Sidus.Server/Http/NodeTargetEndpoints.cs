using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Access;
using Sidus.Server.Hosting;
using Sidus.Server.Images;

namespace Sidus.Server.Http;

/// <summary>
/// What an installed node should run (<see cref="NodeRoutes.TargetTemplate"/>): its image as the inventory resolves
/// it now (a new head is the target of the next update). Only the node's own credential or an admin's.
/// </summary>
internal static class NodeTargetEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGet(NodeRoutes.TargetTemplate, TargetAsync);

    private static async Task TargetAsync(HttpContext ctx)
    {
        var text = ctx.Request.RouteValues["mac"] as string;
        if (!MacAddress.TryParse(text, out var mac))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{text}' is not a MAC address");
            return;
        }

        var snapshot = ctx.RequestServices.GetRequiredService<InventoryView>().Current;
        if (snapshot.FindByMac(mac) is not { } node)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no node has MAC {mac}");
            return;
        }

        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"the target version of {node.Name}", Node: node.Name)) is null)
        {
            return;
        }

        if (snapshot.Resolve(node).Image.Value is not { } spec)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"node {node.Name} has no image set (sidus node set {node.Name} --image NAME)");
            return;
        }

        var lookup = ctx.RequestServices.GetRequiredService<ImageCatalog>().Lookup(spec);
        if (lookup.Files is not { } files)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"image {spec} of node {node.Name}: {lookup.Problem}");
            return;
        }

        var version = new NodeVersion(files.Version.ToString(), $"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}");
        await HttpHelpers.TextAsync(ctx, version.Format());
    }
}
