using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Sidus.Server.Http.Api;

/// <summary>
/// <c>GET /api/openapi.json</c>: the OpenAPI 3 document of every /api route and /metrics, kept by hand next to the
/// routes (openapi.json here; the server's handlers take the HttpContext, so nothing could be inferred from them,
/// and Microsoft.AspNetCore.OpenApi's generator is not NativeAOT-clean for such handlers). Its test calls every
/// operation on a live server and checks each answer against it. Open to all: it describes, it holds no data.
/// </summary>
public static class OpenApiDocument
{
    public const string Path = "/api/openapi.json";

    private const string ResourceName = "openapi.json";

    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the {ResourceName} resource is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Path, async ctx =>
        {
            var bytes = Document.Value;
            ctx.Response.ContentType = "application/json; charset=utf-8";
            ctx.Response.ContentLength = bytes.Length;
            ctx.Response.Headers.CacheControl = "no-cache";
            await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
        });
}
