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
        app.MapGet(NodeJob.Template, JobAsync);
        app.MapPost(NodeJob.Template, JobAnswerAsync);
    }

    private static async Task PollAsync(HttpContext ctx)
    {
        if (await NodeRoute.RequireAsync(ctx, "the requests") is not { } access)
        {
            return;
        }

        var (node, decision) = access;

        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        long Ms(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds() ?? 0;
        (string Kind, long At)[] Requests() =>
        [
            (NodeRequests.Overrides, Ms(view.Current.OverridesRequestedAt(node.Name))),
            (NodeRequests.Job, Ms(view.Current.JobRequestedAt(node.Name))),
        ];
        long Latest() => Requests().Max(r => r.At);
        var seenText = ctx.Request.Query[NodeRequests.SeenParameter].FirstOrDefault();
        if (seenText is null)
        {
            await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(NodeRequests.None, await StartAsync(ctx, view, node, decision, Latest())));
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

                // The oldest request newer than what the node has seen first: it then asks again with that one seen.
                if (Requests().Where(r => r.At > seen).OrderBy(r => r.At).FirstOrDefault() is { Kind: not null } waiting)
                {
                    await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(waiting.Kind, waiting.At));
                    return;
                }

                await changed.WaitAsync(hold.Token);
            }
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            await HttpHelpers.TextAsync(ctx, NodeRequests.FormatPoll(NodeRequests.None, Latest()));
        }
        catch (OperationCanceledException)
        {
            // The node went away.
        }
    }

    /// <summary>The node's job (<see cref="NodeJob"/>'s text), for its agent service.</summary>
    private static async Task JobAsync(HttpContext ctx)
    {
        if (await NodeAsync(ctx) is not { } node)
        {
            return;
        }

        var job = await ctx.RequestServices.GetRequiredService<InventoryView>().Store.GetJobAsync(node.Name, ctx.RequestAborted);
        if (job is null)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"node {node.Name} has no job");
            return;
        }

        await HttpHelpers.TextAsync(ctx, job.Value.Job);
    }

    /// <summary>
    /// Where a starting service begins: the latest request, or just before a job given during this boot and not answered
    /// yet (given between the node's claim and its service's first poll, as `sidus node capture` right after "up"
    /// does): the service's next poll then carries it out. A job older than this boot's session stays behind.
    /// </summary>
    private static async Task<long> StartAsync(HttpContext ctx, InventoryView view, Node node, AccessDecision decision, long latest)
    {
        if (decision.Token is not { Kind: NodeTokenKind.Session } session || view.Current.JobRequestedAt(node.Name) is not { } job || job < session.Issued)
        {
            return latest;
        }

        var answer = await view.Store.GetJobAnswerAsync(node.Name, ctx.RequestAborted);
        return answer is { AnsweredAt: null } && answer.RequestedAt == job ? Math.Min(latest, job.ToUnixTimeMilliseconds() - 1) : latest;
    }

    /// <summary>The agent's answer to its job: the job's time, ok or failed, and its report.</summary>
    private static async Task JobAnswerAsync(HttpContext ctx)
    {
        if (await NodeAsync(ctx) is not { } node)
        {
            return;
        }

        var body = await HttpHelpers.ReadTextAsync(ctx, NodeJob.MaxResultLength + 64);
        if (body is null || !NodeJob.TryParseResult(body, out var at, out var succeeded, out var result))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"expected 'REQUEST-MS ok|failed' then the result (text/plain, at most {NodeJob.MaxResultLength} characters)");
            return;
        }

        var store = ctx.RequestServices.GetRequiredService<InventoryView>().Store;
        await store.RecordJobAnswerAsync(node.Name, DateTimeOffset.FromUnixTimeMilliseconds(at), DateTimeOffset.UtcNow, succeeded, result, ctx.RequestAborted);
        var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Install");
        ServerLog.InstallStep(logger, node.Name, $"job of {DateTimeOffset.FromUnixTimeMilliseconds(at):u} {(succeeded ? "done" : "failed")}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
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
    private static async Task<Node?> NodeAsync(HttpContext ctx) => (await NodeRoute.RequireAsync(ctx, "the requests"))?.Node;
}
