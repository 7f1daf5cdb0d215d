using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sidus.Server.Images;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;

namespace Sidus.Server.Http;

/// <summary>
/// The routes a node agent fetches a version through (<see cref="ServingRoutes"/>): the manifest, one file's content,
/// and a batch of contents. Everything is named by a hash, so answers are cacheable forever. Each content is verified
/// against its id before its status line goes out, once per server process (<see cref="ServingCache"/>): a damaged
/// object gets a 500, and data damaged on disk after its check is left to the node's own hash check.
/// </summary>
internal static class ServingEndpoints
{
    /// <summary>Largest batch body: <see cref="ContentServer.MaxBatchIds"/> lines of 64 hex digits and CR LF.</summary>
    public const long MaxBatchBody = ContentServer.MaxBatchIds * ((ObjectId.Size * 2) + 2L);

    private const string ImmutableCaching = "public, max-age=31536000, immutable";
    private const int HexIdLength = ObjectId.Size * 2;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods(ServingRoutes.Manifest, [HttpMethods.Get, HttpMethods.Head], ManifestAsync);
        app.MapMethods(ServingRoutes.ContentBatch, [HttpMethods.Post], BatchAsync);
        app.MapMethods(ServingRoutes.Content, [HttpMethods.Get, HttpMethods.Head], ContentAsync);
    }

    private static ILogger Log(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Serving");

    private static bool TryId(HttpContext ctx, string key, out ObjectId id)
    {
        id = default;
        return ctx.Request.RouteValues[key] is string { Length: HexIdLength } text && ObjectId.TryParse(text, out id);
    }

    private static async Task ManifestAsync(HttpContext ctx)
    {
        if (!TryId(ctx, "version", out var version))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"'{ctx.Request.RouteValues["version"]}' is not a version id (64 hex digits)");
            return;
        }

        var store = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store;
        byte[] manifest;
        string hash;
        using (var lease = store.Acquire())
        {
            if (!lease.Repository.Objects.TryGetKind(version, out var kind) || kind != ObjectKind.Commit)
            {
                await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no image version {version.Short} in the store");
                return;
            }

            try
            {
                (manifest, hash) = lease.Serving.Manifest(version, ctx.RequestAborted);
            }
            catch (StoreException e)
            {
                ServerLog.ServingFailed(Log(ctx), "manifest of " + version.Short, HttpHelpers.Client(ctx), e.Message);
                await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError, $"the manifest of {version.Short} cannot be made: {e.Message}");
                return;
            }
        }

        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.ContentLength = manifest.Length;
        ctx.Response.Headers.CacheControl = ImmutableCaching;
        ctx.Response.Headers[ServingRoutes.ManifestHashHeader] = hash;
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            ServerLog.ServingSent(Log(ctx), "manifest of " + version.Short, HttpHelpers.Client(ctx), manifest.Length);
            await ctx.Response.Body.WriteAsync(manifest, ctx.RequestAborted);
        }
    }

    private static async Task ContentAsync(HttpContext ctx)
    {
        if (!TryId(ctx, "id", out var id))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"'{ctx.Request.RouteValues["id"]}' is not a content id (64 hex digits)");
            return;
        }

        using var lease = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store.Acquire();
        var repository = lease.Repository;
        if (!ContentServer.HasContent(repository, id))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no file content {id.Short} in the store");
            return;
        }

        long length;
        try
        {
            await lease.Serving.VerifyAsync(id, ctx.RequestAborted);
            length = ContentStore.Length(repository.Objects, id);
        }
        catch (StoreException e)
        {
            ServerLog.ServingFailed(Log(ctx), "content " + id.Short, HttpHelpers.Client(ctx), e.Message);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError, $"content {id.Short} is damaged on the server: {e.Message}");
            return;
        }

        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = length;
        ctx.Response.Headers.CacheControl = ImmutableCaching;
        ctx.Response.Headers.ETag = $"\"{id}\"";
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }

        await SendAsync(ctx, "content " + id.Short, () => ContentServer.WriteContentAsync(lease.Serving, id, ctx.Response.Body, ctx.RequestAborted));
    }

    private static async Task BatchAsync(HttpContext ctx)
    {
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBatchBody;
        }

        if (ctx.Request.ContentLength is > MaxBatchBody)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status413PayloadTooLarge, $"a batch is at most {ContentServer.MaxBatchIds} ids ({MaxBatchBody} bytes)");
            return;
        }

        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status413PayloadTooLarge, $"a batch is at most {MaxBatchBody} bytes: {e.Message}");
            return;
        }

        if (!ContentServer.TryParseBatch(body, out var ids, out var error))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, "bad batch: " + error);
            return;
        }

        using var lease = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store.Acquire();
        var repository = lease.Repository;
        long total = 0;
        try
        {
            foreach (var id in ids)
            {
                if (!ContentServer.HasContent(repository, id))
                {
                    await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no file content {id} in the store");
                    return;
                }

                await lease.Serving.VerifyAsync(id, ctx.RequestAborted);
                total += ContentServer.FrameHeaderLength + ContentStore.Length(repository.Objects, id);
            }
        }
        catch (StoreException e)
        {
            ServerLog.ServingFailed(Log(ctx), $"a batch of {ids.Count}", HttpHelpers.Client(ctx), e.Message);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError, $"a content of the batch is damaged on the server: {e.Message}");
            return;
        }

        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = total;
        await SendAsync(ctx, $"a batch of {ids.Count.ToString(CultureInfo.InvariantCulture)}", () => ContentServer.WriteBatchAsync(lease.Serving, ids, ctx.Response.Body, ctx.RequestAborted));
    }

    /// <summary>Streams an answer whose headers are set; a damaged object found on the way cuts the connection.</summary>
    private static async Task SendAsync(HttpContext ctx, string what, Func<Task> write)
    {
        try
        {
            await write();
            ServerLog.ServingSent(Log(ctx), what, HttpHelpers.Client(ctx), ctx.Response.ContentLength ?? 0);
        }
        catch (StoreException e)
        {
            // The status line is gone already: a short transfer is how the client learns, and its hash check
            // would refuse the bytes anyway.
            ServerLog.ServingFailed(Log(ctx), what, HttpHelpers.Client(ctx), e.Message);
            ctx.Abort();
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            ServerLog.ServingFailed(Log(ctx), what, HttpHelpers.Client(ctx), "the client closed the connection");
        }
    }
}
