using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Nodes.Json;

namespace Sidus.Server.Http.Api;

/// <summary>
/// The inventory as REST resources: nodes (with their boot status), groups, the defaults and networks. Each answer
/// has the shape the matching verb prints with --json (<see cref="InventoryJson"/>, <see cref="BootStatusJson"/>);
/// each change is one inventory transaction, as the verb's, and is served from the next request on.
/// </summary>
public static class InventoryApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/nodes", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ListNodesAsync));
        app.MapGet("/api/nodes/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ShowNodeAsync));
        app.MapPut("/api/nodes/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteNodeAsync(c, patch: false)));
        app.MapPatch("/api/nodes/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteNodeAsync(c, patch: true)));
        app.MapDelete("/api/nodes/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveNodeAsync));
        app.MapGet("/api/nodes/{name}/status", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, NodeStatusAsync));
        app.MapGet("/api/boots", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, BootsAsync));

        app.MapGet("/api/groups", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ListGroupsAsync));
        app.MapGet("/api/groups/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ShowGroupAsync));
        app.MapPut("/api/groups/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteGroupAsync(c, patch: false)));
        app.MapPatch("/api/groups/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteGroupAsync(c, patch: true)));
        app.MapDelete("/api/groups/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveGroupAsync));

        app.MapGet("/api/defaults", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ShowDefaultsAsync));
        app.MapPut("/api/defaults", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteDefaultsAsync(c, patch: false)));
        app.MapPatch("/api/defaults", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteDefaultsAsync(c, patch: true)));

        app.MapGet("/api/networks", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ListNetworksAsync));
        app.MapGet("/api/networks/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ShowNetworkAsync));
        app.MapPut("/api/networks/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteNetworkAsync(c, patch: false)));
        app.MapPatch("/api/networks/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, c => WriteNetworkAsync(c, patch: true)));
        app.MapDelete("/api/networks/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveNetworkAsync));

        LayoutApi.Map(app);
    }

    /// <summary>The inventory as stored now: a change made by the CLI a moment ago is seen, not only after the next poll.</summary>
    internal static async Task<InventorySnapshot> CurrentAsync(HttpContext ctx)
    {
        await ctx.RequestServices.GetRequiredService<InventoryReloader>().ReloadIfChangedAsync(ctx.RequestAborted);
        return ctx.RequestServices.GetRequiredService<InventoryView>().Current;
    }

    private static string Name(HttpContext ctx) => (ctx.Request.RouteValues["name"] as string ?? string.Empty).ToLowerInvariant();

    private static async Task ListNodesAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        var group = ctx.Request.Query["group"].ToString().ToLowerInvariant();
        if (group.Length > 0 && snap.FindGroup(group) is null)
        {
            throw new InventoryException(InventoryErrorKind.NotFound, $"no group is named '{group}' (GET /api/groups lists them)");
        }

        var nodes = snap.Nodes.Where(n => group.Length == 0 || n.Groups.Contains(group));
        await HttpHelpers.JsonAsync(ctx, new JsonArray([.. nodes.Select(n => (JsonNode?)InventoryJson.Node(n, snap.Resolve(n)))]));
    }

    private static async Task ShowNodeAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        var node = FindNode(snap, ctx.Request.RouteValues["name"] as string ?? string.Empty);
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Node(node, snap.Resolve(node)));
    }

    /// <summary>A node by name, or by one of its MACs (as `sidus node show` finds it).</summary>
    private static Node FindNode(InventorySnapshot snap, string key) =>
        snap.FindNode(key) ?? (MacAddress.TryParse(key, out var mac) ? snap.FindByMac(mac) : null)
        ?? throw new InventoryException(InventoryErrorKind.NotFound, $"no node is named '{key}' or has that MAC (GET /api/nodes lists them)");

    /// <summary>PUT: the node as given (created: 201, replaced: 200); PATCH: the fields given changed (200).</summary>
    private static async Task WriteNodeAsync(HttpContext ctx, bool patch)
    {
        var name = Name(ctx);
        var body = await ApiCall.ReadObjectAsync(ctx);
        var created = false;
        var stored = await Store(ctx).EditAsync(async e =>
        {
            var old = await e.GetNodeAsync(name);
            if (old is null && patch)
            {
                throw new InventoryException(InventoryErrorKind.NotFound, $"no node is named '{name}': PUT creates one");
            }

            var node = InventoryInput.Node(name, body, patch ? old : null);
            created = old is null;
            return created ? await e.AddNodeAsync(node) : await e.UpdateNodeAsync(node, InventoryInput.Revision(body) ?? old!.Revision);
        }, ctx.RequestAborted);
        var snap = await ChangedAsync(ctx, $"{(created ? "added" : "changed")} node {stored.Name}");
        var now = snap.FindNode(stored.Name) ?? stored;
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Node(now, snap.Resolve(now)), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task RemoveNodeAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        await Store(ctx).EditAsync(e => e.RemoveNodeAsync(name), ctx.RequestAborted);
        await ChangedAsync(ctx, $"removed node {name}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task NodeStatusAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        var node = FindNode(snap, ctx.Request.RouteValues["name"] as string ?? string.Empty);
        var row = await StatusRowsAsync(ctx, snap, new HashSet<string>(StringComparer.Ordinal) { node.Name });
        await HttpHelpers.JsonAsync(ctx, row.Single());
    }

    /// <summary>GET /api/boots: every node's latest boot, as `sidus node status --json` (?node=NAME repeatable).</summary>
    private static async Task BootsAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        var wanted = ctx.Request.Query["node"].Select(n => (n ?? string.Empty).ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        foreach (var w in wanted.Where(w => snap.FindNode(w) is null))
        {
            throw new InventoryException(InventoryErrorKind.NotFound, $"no node is named '{w}'");
        }

        await HttpHelpers.JsonAsync(ctx, new JsonArray([.. (await StatusRowsAsync(ctx, snap, wanted)).Select(r => (JsonNode?)r)]));
    }

    private static async Task<List<JsonObject>> StatusRowsAsync(HttpContext ctx, InventorySnapshot snap, IReadOnlySet<string> wanted)
    {
        var store = Store(ctx);
        var access = (await store.GetAccessRecordsAsync(ctx.RequestAborted)).ToDictionary(a => a.Node, StringComparer.Ordinal);
        return [.. BootStatusJson.Rows(snap, await store.GetBootStatusAsync(ctx.RequestAborted), wanted).Select(x =>
            BootStatusJson.Row(x.Name, x.Mac, x.Status, x.Name is not null && access.TryGetValue(x.Name, out var a) ? a : null,
                x.Name is null ? null : snap.Installed(x.Name)))];
    }

    private static async Task ListGroupsAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        await HttpHelpers.JsonAsync(ctx, new JsonArray([.. snap.Groups.Select(g => (JsonNode?)InventoryJson.Group(g, Count(snap, g)))]));
    }

    private static async Task ShowGroupAsync(HttpContext ctx)
    {
        var snap = await CurrentAsync(ctx);
        var group = snap.FindGroup(Name(ctx)) ?? throw NoGroup(Name(ctx));
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Group(group, Count(snap, group)));
    }

    private static async Task WriteGroupAsync(HttpContext ctx, bool patch)
    {
        var name = Name(ctx);
        var body = await ApiCall.ReadObjectAsync(ctx);
        var created = false;
        var stored = await Store(ctx).EditAsync(async e =>
        {
            var old = await e.GetGroupAsync(name);
            if (old is null && patch)
            {
                throw NoGroup(name);
            }

            var group = InventoryInput.Group(name, body, patch ? old : null);
            created = old is null;
            return created ? await e.AddGroupAsync(group) : await e.UpdateGroupAsync(group, InventoryInput.Revision(body) ?? old!.Revision);
        }, ctx.RequestAborted);
        var snap = await ChangedAsync(ctx, $"{(created ? "added" : "changed")} group {stored.Name}");
        var now = snap.FindGroup(stored.Name) ?? stored;
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Group(now, Count(snap, now)), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>DELETE a group; ?force=true takes it off the nodes in it (`sidus group rm --force`).</summary>
    private static async Task RemoveGroupAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var force = ctx.Request.Query["force"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw new InventoryException(InventoryErrorKind.Invalid, "force is true or false"),
        };
        await Store(ctx).EditAsync(e => e.RemoveGroupAsync(name, force), ctx.RequestAborted);
        await ChangedAsync(ctx, $"removed group {name}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task ShowDefaultsAsync(HttpContext ctx) =>
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Settings((await CurrentAsync(ctx)).Defaults));

    private static async Task WriteDefaultsAsync(HttpContext ctx, bool patch)
    {
        var body = await ApiCall.ReadObjectAsync(ctx);
        var stored = await Store(ctx).EditAsync(async e =>
            await e.SetDefaultsAsync(InventoryInput.Defaults(body, patch ? await e.GetDefaultsAsync() : null)), ctx.RequestAborted);
        await ChangedAsync(ctx, "changed the defaults");
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Settings(stored));
    }

    private static async Task ListNetworksAsync(HttpContext ctx) =>
        await HttpHelpers.JsonAsync(ctx, new JsonArray([.. (await CurrentAsync(ctx)).Networks.Select(n => (JsonNode?)InventoryJson.Network(n))]));

    private static async Task ShowNetworkAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var network = (await CurrentAsync(ctx)).Networks.FirstOrDefault(n => n.Name == name) ?? throw NoNetwork(name);
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Network(network));
    }

    private static async Task WriteNetworkAsync(HttpContext ctx, bool patch)
    {
        var name = Name(ctx);
        var body = await ApiCall.ReadObjectAsync(ctx);
        var created = false;
        await Store(ctx).EditAsync(async e =>
        {
            var old = (await e.ListNetworksAsync()).FirstOrDefault(n => n.Name == name);
            if (old is null && patch)
            {
                throw NoNetwork(name);
            }

            created = old is null;
            return await e.SetNetworkAsync(InventoryInput.Network(name, body, patch ? old : null));
        }, ctx.RequestAborted);
        var snap = await ChangedAsync(ctx, $"{(created ? "added" : "changed")} network {name}");
        var stored = snap.Networks.First(n => n.Name == name);
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Network(stored), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task RemoveNetworkAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        await Store(ctx).EditAsync(e => e.RemoveNetworkAsync(name), ctx.RequestAborted);
        await ChangedAsync(ctx, $"removed network {name}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    internal static Sidus.Nodes.Storage.InventoryStore Store(HttpContext ctx) => ctx.RequestServices.GetRequiredService<InventoryView>().Store;

    /// <summary>Logs who changed what, and serves the new inventory from the next request on (not the next poll).</summary>
    internal static async Task<InventorySnapshot> ChangedAsync(HttpContext ctx, string summary)
    {
        ServerLog.AdminApplied(
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Admin"),
            AdminAccess.Check(ctx).TokenName!, HttpHelpers.Client(ctx), summary);
        return await CurrentAsync(ctx);
    }

    private static int Count(InventorySnapshot snap, Group g) => snap.Nodes.Count(n => n.Groups.Contains(g.Name));

    private static InventoryException NoGroup(string name) =>
        new(InventoryErrorKind.NotFound, $"no group is named '{name}' (GET /api/groups lists them)");

    private static InventoryException NoNetwork(string name) =>
        new(InventoryErrorKind.NotFound, $"no network is named '{name}' (GET /api/networks lists them)");
}
