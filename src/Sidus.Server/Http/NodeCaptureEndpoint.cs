using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Sidus.Artifacts.Versions;
using Sidus.Store;
using Sidus.Store.Capture;
using Sidus.Store.Objects;
using Sidus.Store.Json;

namespace Sidus.Server.Http;

/// <summary>
/// Where a shared-mode node's agent sends its overlay for `sidus node capture` (docs/capture.md): only the node
/// itself (or an admin), only while the inventory holds a capture job for it with the same time, and only over the
/// version the server recorded that node as booting. The body is the capture walker's one-way stream; the version it
/// makes (or, for a dry run, the changes) is the answer, which the agent posts as the job's result.
/// </summary>
internal static class NodeCaptureEndpoint
{
    /// <summary>Changes listed in the answer (the job's result is kept up to <see cref="NodeJob.MaxResultLength"/>).</summary>
    private const int ListedChanges = 300;

    public static void Map(IEndpointRouteBuilder app) => app.MapPost(NodeJob.CaptureTemplate, CaptureAsync);

    private static async Task CaptureAsync(HttpContext ctx)
    {
        if ((await NodeRoute.RequireAsync(ctx, "the capture"))?.Node is not { } node)
        {
            return;
        }

        var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Capture");
        var inventory = ctx.RequestServices.GetRequiredService<InventoryView>().Store;
        var job = await inventory.GetJobAsync(node.Name, ctx.RequestAborted) is { } text ? TryParse(text.Job) : null;
        if (job is not { Kind: NodeJob.Capture } || !long.TryParse(ctx.Request.Query["at"], NumberStyles.None, CultureInfo.InvariantCulture, out var at) || at != job.At)
        {
            await RefuseAsync(ctx, logger, node.Name, StatusCodes.Status409Conflict, $"node {node.Name} has no capture job of that time: `sidus node capture {node.Name}` gives one");
            return;
        }

        var booted = (await inventory.GetBootStatusAsync(ctx.RequestAborted)).FirstOrDefault(b => b.Node == node.Name)?.Image;
        if (booted is null || !ObjectId.TryParse(booted, out var baseId))
        {
            await RefuseAsync(ctx, logger, node.Name, StatusCodes.Status409Conflict, $"the server has no record of the version {node.Name} booted: boot it again");
            return;
        }

        List<string> overrides;
        try
        {
            overrides = await OverrideEndpoints.PathsAsync(ctx, ctx.RequestServices.GetRequiredService<InventoryView>().Current, node);
        }
        catch (Sidus.Nodes.Overrides.OverrideException e)
        {
            await RefuseAsync(ctx, logger, node.Name, StatusCodes.Status500InternalServerError, $"the overrides of {node.Name} do not render: {e.Message}");
            return;
        }

        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null; // an overlay may hold gigabytes; the receiver bounds what it keeps
        }

        // The receiver reads synchronously (as the capture over ssh does), on its own thread.
        ctx.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
        var home = ctx.RequestServices.GetRequiredService<ImageStoreView>().Home;
        try
        {
            var answer = await Task.Run(() =>
            {
                using var repository = Repository.Open(home);
                var images = new ImageStore(repository) { LockWait = Api.ImageApi.LockWait };
                var baseCommit = repository.ReadCommit(baseId);
                var image = job.Into ?? baseCommit.Image;
                var excludes = CaptureExcludes.Combine(ImageCapture.ImageExcludes(repository, baseCommit.Image), overrides);
                var result = ImageCapture.ReceiveOverlay(images, image, baseId, ctx.Request.Body, excludes, job.DryRun,
                    $"node capture of {node.Name} (over {baseCommit.Image}@{baseCommit.Sequence})", ctx.RequestAborted);
                return Answer(result, $"{baseCommit.Image}@{baseCommit.Sequence}");
            }, ctx.RequestAborted);
            ServerLog.NodeCaptured(logger, node.Name, answer["summary"]!.GetValue<string>());
            await HttpHelpers.JsonAsync(ctx, answer);
        }
        catch (StoreException e)
        {
            await RefuseAsync(ctx, logger, node.Name, e.Kind == StoreErrorKind.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status422UnprocessableEntity, e.Message);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // The upload stalled (Kestrel cuts a body slower than its minimum rate) or was malformed: the node's
            // fault, said as such; the store's writer was never committed.
            var slow = e.StatusCode == StatusCodes.Status408RequestTimeout;
            await RefuseAsync(ctx, logger, node.Name, slow ? StatusCodes.Status408RequestTimeout : StatusCodes.Status400BadRequest,
                $"the overlay's upload {(slow ? "stalled" : "broke off")} ({e.Message}): nothing was recorded; run `sidus node capture {node.Name}` again");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && ctx.RequestAborted.IsCancellationRequested)
        {
            ServerLog.NodeCaptureRefused(logger, node.Name, "the node closed the connection during the upload: nothing was recorded");
        }
    }

    /// <summary>The capture's JSON (<see cref="VersionJson.Capture"/>) with the version it was laid over, its first
    /// changes and how many there are, and one line for people.</summary>
    private static JsonObject Answer(CaptureResult result, string over)
    {
        var answer = VersionJson.Capture(result with { Changes = result.Changes?.Take(ListedChanges).ToList() });
        var changes = result.Changes ?? [];
        answer["over"] = over;
        answer["changes_total"] = changes.Count;
        var counts = $"{changes.Count(c => c.Kind == Store.Diff.ChangeKind.Added)} added, {changes.Count(c => c.Kind == Store.Diff.ChangeKind.Removed)} removed, " +
                     $"{changes.Count(c => c.Kind == Store.Diff.ChangeKind.Modified)} modified over {over}";
        answer["summary"] = result.Version is { } v
            ? (v.Created ? $"{v.Commit.Image}@{v.Commit.Sequence} {v.Id.Short}: {counts}" : $"no new version ({v.Commit.Image}@{v.Commit.Sequence} already holds it): {counts}")
            : $"dry run: {counts}";
        return answer;
    }

    private static NodeJob? TryParse(string text)
    {
        try
        {
            return NodeJob.Parse(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static Task RefuseAsync(HttpContext ctx, ILogger logger, string node, int status, string reason)
    {
        ServerLog.NodeCaptureRefused(logger, node, reason);
        return HttpHelpers.RefuseAsync(ctx, status, reason);
    }
}
