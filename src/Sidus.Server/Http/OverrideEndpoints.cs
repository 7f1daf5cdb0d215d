using Sidus.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Nodes.Overrides;
using Sidus.Server.Hosting;
using Sidus.Server.Images;

namespace Sidus.Server.Http;

/// <summary>
/// <c>GET /api/nodes/{mac}/overrides.tar</c>: the node's override layer as ustar, fetched by the node agent once its
/// root is ready. Answered only to the address the node is expected at (<see cref="OverrideAccess"/>): 403 otherwise,
/// 404 for a MAC no node has, 500 with the reason when the layer cannot be made (a template error).
/// </summary>
internal static class OverrideEndpoints
{
    public const string ContentType = "application/x-tar";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapMethods(NodeRoutes.OverridesTemplate, [HttpMethods.Get, HttpMethods.Head], GetAsync);

    private static async Task GetAsync(HttpContext ctx)
    {
        var text = ctx.Request.RouteValues["mac"] as string;
        if (!MacAddress.TryParse(text, out var mac))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{text}' is not a MAC address");
            return;
        }

        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var snapshot = view.Current;
        if (snapshot.FindByMac(mac) is not { } node)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no node has MAC {mac}");
            return;
        }

        // Only the node's own session, then (kept from before, for its reasons in the log) the address rules.
        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"the overrides of {node.Name}", Node: node.Name)) is not { } allowed)
        {
            return;
        }

        var options = ctx.RequestServices.GetRequiredService<RunningOptions>().Current;
        var state = ctx.RequestServices.GetRequiredService<ServerState>();
        var client = HttpHelpers.Client(ctx);

        // An admin (no node token) reads any node's layer from anywhere, as `sidus node render` does on the server.
        var access = allowed.Token is null
            ? new OverrideAccessDecision(true, allowed.Reason)
            : OverrideAccess.Check(node, client, state.LeasedAddress, a => NeighbourTable.Find(a), options.Overrides.AllowUnverified);
        var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Overrides");
        if (!access.Allowed)
        {
            ServerLog.OverridesRefused(logger, node.Name, client?.ToString() ?? "?", access.Reason);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status403Forbidden, access.Reason);
            return;
        }

        var renderer = ctx.RequestServices.GetRequiredService<OverrideRenderer>();
        var context = new RenderContext(snapshot, node, Image(ctx, snapshot, node), Site(options, HttpHelpers.Server(ctx), client));
        byte[] tar;
        int count;
        try
        {
            // ssh-keygen runs on a node's first render: off the request thread.
            (tar, count) = await Task.Run(() =>
            {
                var layer = renderer.Render(context);
                return (OverrideArchive.ToBytes(layer), layer.Count);
            }, ctx.RequestAborted);
        }
        catch (OverrideException e)
        {
            ServerLog.OverridesFailed(logger, node.Name, e.Message);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError, $"node {node.Name}: {e.Message}");
            return;
        }

        ServerLog.OverridesServed(logger, node.Name, client!.ToString(), count, tar.Length, access.Reason);
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = ContentType;
        ctx.Response.ContentLength = tar.Length;
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers["X-Sidus-Entries"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            await ctx.Response.Body.WriteAsync(tar, ctx.RequestAborted);
        }
    }

    /// <summary>The files and symlinks of NODE's override layer ("/etc/hostname"...; not its directories, which hold
    /// the image's files too), rendered as the node gets it: a capture of its overlay leaves them out, since the
    /// overrides write them on every node.</summary>
    public static Task<List<string>> PathsAsync(HttpContext ctx, InventorySnapshot snapshot, Node node)
    {
        var options = ctx.RequestServices.GetRequiredService<RunningOptions>().Current;
        var renderer = ctx.RequestServices.GetRequiredService<OverrideRenderer>();
        var context = new RenderContext(snapshot, node, Image(ctx, snapshot, node), Site(options, HttpHelpers.Server(ctx), HttpHelpers.Client(ctx)));
        return Task.Run(() => renderer.Render(context).Where(file => file.Kind != OverrideKind.Directory).Select(file => "/" + file.Path.TrimStart('/')).ToList(), ctx.RequestAborted);
    }

    private static ImageInfo? Image(HttpContext ctx, InventorySnapshot snapshot, Node node)
    {
        if (snapshot.Resolve(node).Image.Value is not { } spec)
        {
            return null;
        }

        var lookup = ctx.RequestServices.GetRequiredService<ImageCatalog>().Lookup(spec);
        return lookup.Files is { } files
            ? new ImageInfo($"{files.Image}@{files.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)}", files.Version.ToString())
            : null;
    }

    /// <summary>The site as this client sees it: our address on its connection, the DHCP domain and DNS of its subnet.</summary>
    public static SiteInfo Site(ServeOptions options, string serverAddress, IPAddress? client)
    {
        ArgumentNullException.ThrowIfNull(options);
        var subnet = options.Interfaces.FirstOrDefault(i => client is not null && i.Subnet is { } s && s.Contains(client))
                     ?? options.Interfaces.FirstOrDefault(i => i.Domain is not null || i.Dns.Count > 0);
        return new SiteInfo(serverAddress, subnet?.Domain, subnet?.Dns ?? []);
    }
}
