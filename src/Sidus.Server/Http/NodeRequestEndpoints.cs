using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Access;

namespace Sidus.Server.Http;

/// <summary>
/// The running node's agent service waiting for the admin's requests (<see cref="NodeRequests"/>): a held GET that
/// answers as soon as `sidus node apply-overrides` moves the inventory, and the POST of the node's result. Only the
/// node's own session (or an admin) may ask or answer.
/// </summary>
internal static class NodeRequestEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(NodeRequests.Template, PollAsync);
        app.MapPost(NodeRequests.AnswerTemplate, AnswerAsync);
    }

    private static async Task PollAsync(HttpContext ctx)
    {
        if (await NodeAsync(ctx) is not { } node)
        {
            return;
        }

        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        long Latest() => view.Current.OverridesRequestedAt(node.Name)?.ToUnixTimeMilliseconds() ?? 0;
        var seenText = ctx.Request.Query[NodeRequests.SeenParameter].FirstOrDefault();
        if (seenText is null)
        {
            await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(false, Latest()));
            return;
        }

        if (!long.TryParse(seenText, NumberStyles.None, CultureInfo.InvariantCulture, out var seen))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"'{seenText}' is not a time in Unix milliseconds");
            return;
        }

        using var hold = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        hold.CancelAfter(NodeRequests.Wait);
        try
        {
            while (true)
            {
                var changed = view.Changed;
                var latest = Latest();
                if (latest > seen)
                {
                    await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(true, latest));
                    return;
                }

                await changed.WaitAsync(hold.Token);
            }
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(false, Latest()));
        }
        catch (OperationCanceledException)
        {
            // The node went away.
        }
    }

    private static async Task AnswerAsync(HttpContext ctx)
    {
        if (await NodeAsync(ctx) is not { } node)
        {
            return;
        }

        var body = await HttpHelpers.ReadTextAsync(ctx, BootStages.MaxDetailLength + 32);
        if (body is null || !NodeRequests.TryParseAnswer(body, out var request, out var result))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, "expected 'REQUEST-MS RESULT' (text/plain, one line)");
            return;
        }

        var clean = EventText.Clean(result) ?? string.Empty;
        var store = ctx.RequestServices.GetRequiredService<InventoryView>().Store;
        await store.RecordOverridesAppliedAsync(node.Name, DateTimeOffset.FromUnixTimeMilliseconds(request), DateTimeOffset.UtcNow, clean, ctx.RequestAborted);
        var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Overrides");
        ServerLog.OverridesReapplied(logger, node.Name, clean);
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The node of the route's MAC when the caller is that node (or an admin); else answers and gives null.</summary>
    private static async Task<Node?> NodeAsync(HttpContext ctx)
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

        return await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"the requests of {node.Name}", Node: node.Name)) is null ? null : node;
    }
}
