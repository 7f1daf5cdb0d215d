using Sidus.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Sidus.Server.Images;
using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.Server.Http;

/// <summary>
/// <c>/images/{version}/vmlinuz</c> and <c>/images/{version}/initrd</c>: an image version's own kernel and
/// initramfs, streamed from the store. The URLs name an immutable version, so answers are cacheable forever
/// (any HTTP cache can sit in front); Content-Length is always sent (iPXE is far slower without it), HEAD and
/// single byte ranges are answered, and nothing ever redirects.
/// </summary>
internal static class ImageEndpoints
{
    public const string KernelName = NodeRoutes.ImageFiles.Kernel;
    public const string InitrdName = NodeRoutes.ImageFiles.Initrd;

    /// <summary>The kernel the Sidus initramfs was made for (ram mode).</summary>
    public const string AgentKernelName = NodeRoutes.ImageFiles.AgentKernel;

    /// <summary>The Sidus initramfs: the node agent as /init and the version's driver modules (ram mode).</summary>
    public const string AgentInitrdName = NodeRoutes.ImageFiles.AgentInitrd;

    /// <summary>Immutable, but private: each answer needs the boot's ticket, so no shared cache may keep it.</summary>
    private const string ImmutableCaching = ContentRoutes.ImmutableCaching;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapMethods(NodeRoutes.ImageFileTemplate, [HttpMethods.Get, HttpMethods.Head], ServeAsync);

    private static async Task ServeAsync(HttpContext ctx)
    {
        var services = ctx.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Images");
        var client = HttpHelpers.Client(ctx);
        var versionText = ctx.Request.RouteValues["version"] as string ?? string.Empty;
        var name = ctx.Request.RouteValues["file"] as string ?? string.Empty;
        if (versionText.Length != ObjectId.Size * 2 || !ObjectId.TryParse(versionText, out var version))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{versionText}' is not a version id (64 hex digits)");
            return;
        }

        if (name is not (KernelName or InitrdName or AgentKernelName or AgentInitrdName))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"an image version serves {KernelName}, {InitrdName}, {AgentKernelName} and {AgentInitrdName}, not '{name}'");
            return;
        }

        // iPXE cannot send headers: the boot's ticket is in the URL, and its downloads come from the address that
        // asked for the script.
        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"{name} of {version.Short}", version, Ticket: true, Session: false, SameAddress: true)) is null)
        {
            return;
        }

        var catalog = services.GetRequiredService<ImageCatalog>();
        var lookup = catalog.Version(version);
        if (name is AgentKernelName or AgentInitrdName)
        {
            await ServeAgentFileAsync(ctx, logger, lookup, version, name);
            return;
        }

        var file = name == KernelName ? lookup.Files?.Kernel : lookup.Files?.Initrd;
        if (file is null)
        {
            var why = lookup.Problem ?? $"version {version.Short} has no initramfs of its own";
            ServerLog.FileFailed(logger, name, version.Short, client, why);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, why);
            return;
        }

        if (await StartFileResponseAsync(ctx, $"\"{file.Content}\"", ImmutableCaching, file.Size, name) is not { } started)
        {
            return;
        }

        var (offset, length, status) = started;

        var known = services.GetRequiredService<RecentClients>().TryGet(client, out var mac, out var node);
        var rangeText = status == StatusCodes.Status206PartialContent ? $" (range {offset}-{offset + length - 1})" : string.Empty;
        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }

        ServerLog.FileServed(logger, name + " " + file.Path, version.Short, client, node ?? (known ? mac.ToString() : "unknown machine"), length, file.Size, rangeText);
        if (known && name == KernelName && offset == 0)
        {
            services.GetRequiredService<BootEventRecorder>().Record(
                new BootEvent(mac, BootStage.Kernel, DateTimeOffset.UtcNow, $"{file.Path} of {lookup.Files!.Image}@{lookup.Files.Sequence} ({file.Size} bytes)", node));
        }

        using var lease = catalog.Store.Acquire();
        try
        {
            foreach (var piece in ContentPieces.Read(lease.Serving, file.Content, file.Size, offset, length))
            {
                await ctx.Response.Body.WriteAsync(piece, ctx.RequestAborted);
            }
        }
        catch (StoreException e)
        {
            // Headers (and maybe data) are gone already: cut the connection so the client sees a short transfer
            // and retries, instead of booting a damaged kernel.
            ServerLog.FileFailed(logger, name, version.Short, client, e.Message);
            ctx.Abort();
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            ServerLog.FileFailed(logger, name, version.Short, client, "the client closed the connection");
        }
    }

    /// <summary>The Sidus kernel or initramfs of a version, from the builder's cache on disk.</summary>
    private static async Task ServeAgentFileAsync(HttpContext ctx, ILogger logger, ImageLookup lookup, ObjectId version, string name)
    {
        var services = ctx.RequestServices;
        var client = HttpHelpers.Client(ctx);
        if (lookup.Files is null)
        {
            ServerLog.FileFailed(logger, name, version.Short, client, lookup.Problem ?? "unknown version");
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, lookup.Problem ?? $"no image version {version.Short}");
            return;
        }

        // Awaited, not blocked on: a build (normally done before the script pointed here) holds no request thread.
        // Read from the descriptor opened here to the end: a prune that removes the file meanwhile does not cut the
        // download; one that removed it between the build and the opening is met by asking once more (it is rebuilt).
        var artifacts = services.GetRequiredService<VersionArtifacts>();
        AgentBootFiles files;
        FileStream? opened;
        var attempt = 0;
        try
        {
            do
            {
                files = await artifacts.AgentBootAsync(version).WaitAsync(ctx.RequestAborted);
                opened = AgentInitramfs.TryOpen(files, name == AgentKernelName);
            }
            while (opened is null && ++attempt < 2);
        }
        catch (ArtifactException e)
        {
            ServerLog.FileFailed(logger, name, version.Short, client, e.Message);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, e.Message);
            return;
        }

        if (opened is null)
        {
            var why = $"the Sidus {(name == AgentKernelName ? "kernel" : "initramfs")} of {version.Short} was removed from the boot cache while it was being opened";
            ServerLog.FileFailed(logger, name, version.Short, client, why);
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, why);
            return;
        }

        await using var stream = opened;
        var path = stream.Name;
        var size = stream.Length;
        if (await StartFileResponseAsync(ctx, $"\"{Path.GetFileName(path)}\"", "no-cache", size, name) is not { } started)
        {
            return;
        }

        var (offset, length, status) = started;

        if (HttpMethods.IsHead(ctx.Request.Method))
        {
            return;
        }

        var known = services.GetRequiredService<RecentClients>().TryGet(client, out var mac, out var node);
        ServerLog.FileServed(logger, name + " " + path, version.Short, client, node ?? (known ? mac.ToString() : "unknown machine"), length, size, string.Empty);
        if (known && name == AgentKernelName && offset == 0)
        {
            services.GetRequiredService<BootEventRecorder>().Record(
                new BootEvent(mac, BootStage.Kernel, DateTimeOffset.UtcNow, $"{files.KernelRelease} of {lookup.Files.Image}@{lookup.Files.Sequence} with the Sidus initramfs ({size} bytes)", node));
        }

        try
        {
            stream.Position = offset;
            var buffer = new byte[1 << 16];
            for (var left = length; left > 0;)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ctx.RequestAborted);
                if (n == 0)
                {
                    // The cached file shrank under us: a short answer makes the client retry.
                    ctx.Abort();
                    return;
                }

                await ctx.Response.Body.WriteAsync(buffer.AsMemory(0, n), ctx.RequestAborted);
                left -= n;
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            ServerLog.FileFailed(logger, name, version.Short, client, "the client closed the connection");
        }
    }

    /// <summary>
    /// Headers every file answer shares (ETag, caching, ranges), then 304 or 416 when they settle the request.
    /// Returns the range to send, or null when the answer is already complete.
    /// </summary>
    private static async Task<(long Offset, long Length, int Status)?> StartFileResponseAsync(
        HttpContext ctx, string etag, string caching, long size, string name)
    {
        ctx.Response.Headers.ETag = etag;
        ctx.Response.Headers.CacheControl = caching;
        ctx.Response.Headers.AcceptRanges = "bytes";
        if (ctx.Request.Headers.IfNoneMatch.Contains(etag))
        {
            ctx.Response.StatusCode = StatusCodes.Status304NotModified;
            return null;
        }

        var (offset, length, status) = Range(ctx.Request, size);
        if (status == StatusCodes.Status416RangeNotSatisfiable)
        {
            ctx.Response.Headers.ContentRange = $"bytes */{size}";
            await HttpHelpers.RefuseAsync(ctx, status, $"range '{ctx.Request.Headers.Range}' lies outside the {size} bytes of {name}");
            return null;
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = length;
        if (status == StatusCodes.Status206PartialContent)
        {
            ctx.Response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{size}";
        }

        return (offset, length, status);
    }

    /// <summary>
    /// The part to send: everything (200), one satisfiable range (206) or none (416). Several ranges, other units
    /// or an unparseable header are ignored and the whole file is sent, as RFC 9110 allows.
    /// </summary>
    internal static (long Offset, long Length, int Status) Range(HttpRequest request, long size)
    {
        var whole = (0L, size, StatusCodes.Status200OK);
        if (request.Headers.Range.Count != 1 || !RangeHeaderValue.TryParse(request.Headers.Range[0], out var header)
            || !string.Equals(header.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || header.Ranges.Count != 1)
        {
            return whole;
        }

        var range = header.Ranges.First();
        long from, to;
        if (range.From is { } f)
        {
            from = f;
            to = range.To is { } t ? Math.Min(t, size - 1) : size - 1;
            if (from >= size || to < from)
            {
                return (0, 0, StatusCodes.Status416RangeNotSatisfiable);
            }
        }
        else if (range.To is { } suffix && suffix > 0)
        {
            from = Math.Max(0, size - suffix);
            to = size - 1;
            if (size == 0)
            {
                return (0, 0, StatusCodes.Status416RangeNotSatisfiable);
            }
        }
        else
        {
            return (0, 0, StatusCodes.Status416RangeNotSatisfiable);
        }

        return (from, to - from + 1, StatusCodes.Status206PartialContent);
    }
}
