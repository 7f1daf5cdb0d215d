using Sidus.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Images;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;

namespace Sidus.Server.Http;

/// <summary>
/// The routes a node agent fetches a version through (<see cref="ContentRoutes"/>): the manifest, one file's content,
/// and a batch of the version's contents (plain GETs, so an HTTP cache can stand in front). Everything is named by a hash, so answers are cacheable forever. Each content is verified
/// against its id before its status line goes out, once per server process (<see cref="ServingCache"/>): a damaged
/// object gets a 500, and data damaged on disk after its check is left to the node's own hash check.
/// </summary>
internal static class ServingEndpoints
{
    private const int HexIdLength = ObjectId.Size * 2;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods(ContentRoutes.Manifest, [HttpMethods.Get, HttpMethods.Head], ManifestAsync);
        app.MapMethods(ContentRoutes.Batch, [HttpMethods.Get, HttpMethods.Head], BatchAsync);
        app.MapMethods(ContentRoutes.Content, [HttpMethods.Get, HttpMethods.Head], ContentAsync);
        app.MapPost(ContentRoutes.Contents, ContentsAsync);
    }

    private static ILogger Log(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Serving");

    private static bool TryId(HttpContext ctx, string key, out ObjectId id)
    {
        id = default;
        return ctx.Request.RouteValues[key] is string { Length: HexIdLength } text && ObjectId.TryParse(text, out id);
    }

    /// <summary>The route's version id; null once a 400 answer said it is not one.</summary>
    private static async Task<ObjectId?> VersionAsync(HttpContext ctx)
    {
        if (TryId(ctx, "version", out var version))
        {
            return version;
        }

        await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"'{ctx.Request.RouteValues["version"]}' is not a version id (64 hex digits)");
        return null;
    }

    /// <summary>Whether the store holds VERSION as an image version; false once a 404 answer said it does not.</summary>
    private static async Task<bool> HasVersionAsync(HttpContext ctx, ImageStoreView.Lease lease, ObjectId version)
    {
        if (lease.Repository.Objects.TryGetKind(version, out var kind) && kind == ObjectKind.Commit)
        {
            return true;
        }

        await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no image version {version.Short} in the store");
        return false;
    }

    private static async Task ManifestAsync(HttpContext ctx)
    {
        if (await VersionAsync(ctx) is not { } version)
        {
            return;
        }

        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed("the manifest of " + version.Short, version)) is null)
        {
            return;
        }

        var store = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store;
        byte[] manifest;
        string hash;
        using (var lease = store.Acquire())
        {
            if (!await HasVersionAsync(ctx, lease, version))
            {
                return;
            }

            try
            {
                (manifest, hash) = lease.Serving.Manifest(version, ctx.RequestAborted);
            }
            catch (IOException e)
            {
                ServerLog.ServingFailed(Log(ctx), "manifest of " + version.Short, HttpHelpers.Client(ctx), e.Message);
                await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError, $"the manifest of {version.Short} cannot be made: {e.Message}");
                return;
            }
        }

        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.ContentLength = manifest.Length;
        ctx.Response.Headers.CacheControl = ContentRoutes.ImmutableCaching;
        ctx.Response.Headers.ETag = $"\"{hash}\"";
        ctx.Response.Headers[ContentRoutes.ManifestHashHeader] = hash;
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

        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed("content " + id.Short)) is not { } allowed)
        {
            return;
        }

        using var lease = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store.Acquire();
        var repository = lease.Repository;
        // An admin (no node token) may read any content; a node only its own version's.
        if (!ContentServer.HasContent(repository, id) || (allowed.Token is { } token && !InVersion(lease, token.Version, id, ctx.RequestAborted)))
        {
            // The same answer whether the content exists elsewhere or not: a node learns nothing of other versions.
            var scope = allowed.Token is { } t ? $" in version {t.Version.Short}" : " in the store";
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no file content {id.Short}{scope}");
            return;
        }

        long length;
        try
        {
            await lease.Serving.VerifyAsync(id, ctx.RequestAborted);
            length = ContentStore.Length(repository.Objects, id);
        }
        catch (IOException e)
        {
            await DamagedAsync(ctx, "content " + id, null, e);
            return;
        }

        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = length;
        ctx.Response.Headers.CacheControl = ContentRoutes.ImmutableCaching;
        ctx.Response.Headers.ETag = $"\"{id}\"";
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }

        await SendAsync(ctx, "content " + id.Short, body => ContentServer.WriteContentAsync(lease.Serving, id, body, ctx.RequestAborted));
    }

    private static async Task BatchAsync(HttpContext ctx)
    {
        if (await VersionAsync(ctx) is not { } version)
        {
            return;
        }

        if (ctx.Request.RouteValues["index"] is not string indexText ||
            !int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, $"'{ctx.Request.RouteValues["index"]}' is not a batch number");
            return;
        }

        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"batch {index.ToString(CultureInfo.InvariantCulture)} of {version.Short}", version)) is null)
        {
            return;
        }

        using var lease = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store.Acquire();
        var repository = lease.Repository;
        if (!await HasVersionAsync(ctx, lease, version))
        {
            return;
        }

        List<ObjectId> ids;
        long total = 0;
        var what = $"batch {index.ToString(CultureInfo.InvariantCulture)} of {version.Short}";
        ObjectId? checking = null;
        try
        {
            var batches = lease.Serving.Batches(version, ctx.RequestAborted);
            if (index >= batches.Count)
            {
                await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"version {version.Short} has {batches.Count} batches, not {index + 1}");
                return;
            }

            ids = [.. batches[index].Select(item => ObjectId.Read(item.Content))];
            foreach (var id in ids)
            {
                checking = id;
                await lease.Serving.VerifyAsync(id, ctx.RequestAborted);
                total += ContentServer.FrameHeaderLength + ContentStore.Length(repository.Objects, id);
            }
        }
        catch (IOException e)
        {
            await DamagedAsync(ctx, what, checking, e);
            return;
        }

        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = total;
        ctx.Response.Headers.CacheControl = ContentRoutes.ImmutableCaching;
        ctx.Response.Headers.ETag = ContentRoutes.BatchETag(version.ToString(), index);
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }

        await SendAsync(ctx, what, body => ContentServer.WriteBatchAsync(lease.Serving, ids, body, ctx.RequestAborted));
    }

    /// <summary>
    /// Only the contents a node lacks (<see cref="ContentsRequest"/>), for an update: every id must be a content of
    /// the version (the same credential check as the batches: a node's opens only its own version), each verified
    /// before the status line goes out; the answer streams as <see cref="ContentsFrame"/>s, zstd where smaller.
    /// </summary>
    private static async Task ContentsAsync(HttpContext ctx)
    {
        if (await VersionAsync(ctx) is not { } version)
        {
            return;
        }

        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed("contents of " + version.Short, version)) is null)
        {
            return;
        }

        List<ObjectId> ids;
        bool zstd;
        try
        {
            var body = await ReadBodyAsync(ctx, 1 + ContentsRequest.MaxIds * ContentsRequest.IdLength);
            var request = ContentsRequest.Decode(body);
            ids = [.. request.Ids.Select(id => ObjectId.Read(id))];
            zstd = request.AcceptZstd;
        }
        catch (InvalidDataException e)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        using var lease = ctx.RequestServices.GetRequiredService<ImageCatalog>().Store.Acquire();
        if (!await HasVersionAsync(ctx, lease, version))
        {
            return;
        }

        var what = $"{ids.Count.ToString(CultureInfo.InvariantCulture)} contents of {version.Short}";
        ObjectId? checking = null;
        try
        {
            var inVersion = lease.Serving.Batches(version, ctx.RequestAborted).SelectMany(b => b).Select(item => ObjectId.Read(item.Content)).ToHashSet();
            foreach (var stranger in ids.Where(id => !inVersion.Contains(id)).Take(1))
            {
                // The same answer whether the content exists elsewhere or not: a node learns nothing of other versions.
                await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no file content {stranger.Short} in version {version.Short}");
                return;
            }

            foreach (var id in ids)
            {
                checking = id;
                await lease.Serving.VerifyAsync(id, ctx.RequestAborted);
            }
        }
        catch (IOException e)
        {
            await DamagedAsync(ctx, what, checking, e);
            return;
        }

        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.Headers.CacheControl = "no-store";
        await SendAsync(ctx, what, body => ContentServer.WriteContentsAsync(lease.Serving, ids, zstd, body, ctx.RequestAborted));
    }

    /// <summary>
    /// A 500 for WHAT, logged: the content checked (CONTENT, with its full id, which a node maps to its file, when WHAT
    /// is a batch) failed with ERROR (a damaged pack, a missing object, a disk's read error), and what the admin does
    /// about it. The log names the content as the node was told, so the two can be matched.
    /// </summary>
    private static async Task DamagedAsync(HttpContext ctx, string what, ObjectId? content, IOException error)
    {
        var which = content is { } id ? $"content {id} of {what}" : what;
        ServerLog.ServingFailed(Log(ctx), which, HttpHelpers.Client(ctx), error.Message);
        await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status500InternalServerError,
            $"{which} is damaged on the server: {error.Message}. Run 'sidus store verify' on the server to see " +
            "every damaged object and the versions it breaks");
    }

    /// <summary>The request's body, refused (as malformed) beyond LIMIT bytes.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx, int limit)
    {
        // The server's default limit is a boot event's; this body is a list of ids.
        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new InvalidDataException($"a contents request is at most {limit} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>Whether content ID is a file of VERSION (its batches list every content of the version once).</summary>
    private static bool InVersion(ImageStoreView.Lease lease, ObjectId version, ObjectId id, CancellationToken ct)
    {
        try
        {
            return lease.Serving.Batches(version, ct).Any(batch => batch.Any(item => ObjectId.Read(item.Content) == id));
        }
        catch (StoreException)
        {
            return false;
        }
    }

    /// <summary>Streams an answer whose headers are set; a damaged object found on the way cuts the connection.</summary>
    private static async Task SendAsync(HttpContext ctx, string what, Func<Stream, Task> write)
    {
        try
        {
            var body = new CountingBody(ctx.Response.Body);
            await write(body);
            ServerLog.ServingSent(Log(ctx), what, HttpHelpers.Client(ctx), body.Written);
        }
        catch (IOException e)
        {
            // A damaged object, a disk's read error or the client gone. The status line is gone already: a short
            // transfer is how the client learns, and its hash check would refuse the bytes anyway.
            ServerLog.ServingFailed(Log(ctx), what, HttpHelpers.Client(ctx), e.Message);
            ctx.Abort();
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            ServerLog.ServingFailed(Log(ctx), what, HttpHelpers.Client(ctx), "the client closed the connection");
        }
    }
}
