using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Sidus.Server.Http.Api;

/// <summary>
/// Errors of every /api route as RFC 9457 problem details (<c>application/problem+json</c>): <c>type</c>
/// (<c>about:blank</c>: the status says it all), <c>title</c> (the status's phrase), <c>status</c>, <c>detail</c>
/// (what went wrong and what to do, the text the CLI prints) and <c>instance</c> (the path asked for); an apply error
/// adds the <c>line</c> and <c>column</c> of the cluster.yaml.
/// </summary>
public static class ApiProblem
{
    public const string ContentType = "application/problem+json";

    /// <summary>Under this path every refusal is a problem document.</summary>
    public const string Prefix = "/api";

    // One line, apostrophes and non-ASCII kept: the node agent prints a refusal's body on the console as it came,
    // and the detail is meant for people as much as for scripts.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static bool Applies(HttpContext ctx) => ctx.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal);

    /// <summary>Answers STATUS with DETAIL; LINE and COLUMN when the error is at a place in a file the request sent.</summary>
    public static async Task WriteAsync(HttpContext ctx, int status, string detail, int? line = null, int? column = null)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", Title(status));
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteString("instance", ctx.Request.Path.Value);
            if (line is { } l)
            {
                json.WriteNumber("line", l);
            }

            if (column is { } c)
            {
                json.WriteNumber("column", c);
            }

            json.WriteEndObject();
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = ContentType;
        ctx.Response.ContentLength = buffer.WrittenCount;
        ctx.Response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
        }
    }

    /// <summary>
    /// Middleware for /api: an answer that ends as an error with nothing written (no route: 404; a route without
    /// that method: 405, with its Allow header) becomes a problem document too.
    /// </summary>
    public static async Task FillEmptyErrorsAsync(HttpContext ctx, RequestDelegate next)
    {
        await next(ctx);
        if (Applies(ctx) && !ctx.Response.HasStarted && ctx.Response.StatusCode >= 400 && ctx.Response.ContentLength is null or 0)
        {
            var status = ctx.Response.StatusCode;
            var detail = status switch
            {
                StatusCodes.Status404NotFound => $"there is no API resource {ctx.Request.Path} (GET /api/openapi.json lists them)",
                StatusCodes.Status405MethodNotAllowed => $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}; allowed: {ctx.Response.Headers.Allow}",
                _ => Title(status),
            };
            await WriteAsync(ctx, status, detail);
        }
    }

    public static string Title(int status) => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
