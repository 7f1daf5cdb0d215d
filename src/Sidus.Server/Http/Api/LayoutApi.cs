using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Nodes.Json;
using Sidus.Nodes.Layouts;

namespace Sidus.Server.Http.Api;

/// <summary>
/// The disk layouts stored in the inventory (docs/layouts.md), as `sidus layout list|show|set|rm` give and change
/// them: the answers are <see cref="InventoryJson.Layout"/>, a PUT stores a new revision after the checks of
/// `sidus layout check` (a refusal's problem document has the line and column of the text).
/// </summary>
public static class LayoutApi
{
    private static readonly string[] Fields = ["name", "text", "revision", "revisions", "updated", "usedBy"];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/layouts", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ListAsync));
        app.MapGet("/api/layouts/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, ShowAsync));
        app.MapPut("/api/layouts/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, SetAsync));
        app.MapDelete("/api/layouts/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveAsync));
    }

    private static string Name(HttpContext ctx) => (ctx.Request.RouteValues["name"] as string ?? string.Empty).ToLowerInvariant();

    private static async Task ListAsync(HttpContext ctx)
    {
        var snap = await InventoryApi.CurrentAsync(ctx);
        await HttpHelpers.JsonAsync(ctx, new JsonArray([.. snap.Layouts.Select(l => (JsonNode?)InventoryJson.Layout(l, LayoutUsers.Of(snap, l.Name), withText: false))]));
    }

    /// <summary>GET a layout with its text: the current revision, or ?revision=N.</summary>
    private static async Task ShowAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var history = await InventoryApi.Store(ctx).GetLayoutHistoryAsync(name, ctx.RequestAborted);
        if (history.Count == 0)
        {
            throw NoLayout(name);
        }

        var asked = ctx.Request.Query["revision"].ToString();
        long wanted = history[^1].Revision;
        if (asked.Length > 0 && !long.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out wanted))
        {
            throw new InventoryException(InventoryErrorKind.Invalid, "revision is a whole number");
        }

        var layout = history.FirstOrDefault(l => l.Revision == wanted)
            ?? throw new InventoryException(InventoryErrorKind.NotFound, $"layout '{name}' has no revision {wanted} (it has 1 to {history[^1].Revision})");
        var snap = await InventoryApi.CurrentAsync(ctx);
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Layout(layout, LayoutUsers.Of(snap, name), withText: true));
    }

    /// <summary>
    /// PUT {"text": YAML}: a new revision (201 when the layout is new, else 200; the same text adds none). What a GET
    /// gave can be PUT back; with its "revision", the change is refused (409) if the layout moved on since.
    /// </summary>
    private static async Task SetAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var body = await ApiCall.ReadObjectAsync(ctx);
        foreach (var p in body.EnumerateObject().Where(p => !Fields.Contains(p.Name, StringComparer.Ordinal)))
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"a layout has no field '{p.Name}' (fields: {string.Join(", ", Fields)})");
        }

        if (body.TryGetProperty("name", out var given) && given.ValueKind == JsonValueKind.String && !string.Equals(given.GetString(), name, StringComparison.OrdinalIgnoreCase))
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"the body names '{given.GetString()}' but the URL '{name}'");
        }

        if (!body.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, "a layout needs 'text': its YAML, as `sidus layout check` reads it");
        }

        var expected = InventoryInput.Revision(body);
        var created = false;
        var (stored, added) = await InventoryApi.Store(ctx).EditAsync(async e =>
        {
            var history = await e.GetLayoutHistoryAsync(name);
            created = history.Count == 0;
            if (expected is { } rev && !created && history[^1].Revision != rev)
            {
                throw new InventoryException(
                    InventoryErrorKind.Conflict, $"layout '{name}' is at revision {history[^1].Revision}, you read {rev}: read it again and retry");
            }

            return await e.SetLayoutAsync(name, t.GetString()!, DateTimeOffset.UtcNow, name);
        }, ctx.RequestAborted);
        var snap = added ? await InventoryApi.ChangedAsync(ctx, $"{(created ? "added" : "changed")} layout {stored.Name} (revision {stored.Revision})") : await InventoryApi.CurrentAsync(ctx);
        await HttpHelpers.JsonAsync(ctx, InventoryJson.Layout(stored, LayoutUsers.Of(snap, stored.Name), withText: true), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>DELETE a layout with its history; refused (409, naming its users) while in use unless ?force=true.</summary>
    private static async Task RemoveAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var force = ctx.Request.Query["force"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw new InventoryException(InventoryErrorKind.Invalid, "force is true or false"),
        };
        await InventoryApi.Store(ctx).EditAsync(e => e.RemoveLayoutAsync(name, force), ctx.RequestAborted);
        await InventoryApi.ChangedAsync(ctx, $"removed layout {name}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static InventoryException NoLayout(string name) =>
        new(InventoryErrorKind.NotFound, $"no layout is named '{name}' (GET /api/layouts lists them)");
}
