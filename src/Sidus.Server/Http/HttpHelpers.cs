using System.Buffers;
using System.Text.Json;

namespace Sidus.Server.Http;

/// <summary>Small things every endpoint needs: who asks, how we were reached, plain and JSON answers.</summary>
internal static class HttpHelpers
{
    /// <summary>Key under which a handler leaves the reason of a refusal for the request log.</summary>
    public const string RefusalKey = "sidus.refusal";

    public static IPAddress? Client(HttpContext ctx) => Plain(ctx.Connection.RemoteIpAddress);

    /// <summary>Our address and port as this connection reached them: an IP literal (snponly.efi may lack DNS).</summary>
    public static string Server(HttpContext ctx)
    {
        var local = Plain(ctx.Connection.LocalIpAddress) ?? IPAddress.Loopback;
        var host = local.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local}]" : local.ToString();
        return $"{host}:{ctx.Connection.LocalPort}";
    }

    /// <summary>Refuses with REASON: plain text, or a problem document (RFC 9457) under /api.</summary>
    public static Task RefuseAsync(HttpContext ctx, int status, string reason)
    {
        ctx.Items[RefusalKey] = reason;
        return Api.ApiProblem.Applies(ctx) ? Api.ApiProblem.WriteAsync(ctx, status, reason) : TextAsync(ctx, reason + "\n", status);
    }

    /// <summary>Answers text with Content-Length and no caching (scripts change with the inventory).</summary>
    public static async Task TextAsync(HttpContext ctx, string text, int status = StatusCodes.Status200OK, string contentType = "text/plain; charset=utf-8")
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = bytes.Length;
        ctx.Response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
        }
    }

    public static async Task JsonAsync(HttpContext ctx, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.ContentLength = buffer.WrittenCount;
        ctx.Response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
        }
    }

    /// <summary>Answers a JSON document built as nodes (the shapes shared with the CLI's --json).</summary>
    public static Task JsonAsync(HttpContext ctx, System.Text.Json.Nodes.JsonNode node, int status = StatusCodes.Status200OK) =>
        JsonAsync(ctx, json => node.WriteTo(json), status);

    private static IPAddress? Plain(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>The request's body as UTF-8 text, or null when it holds more than LIMIT characters.</summary>
    public static async Task<string?> ReadTextAsync(HttpContext ctx, int limit)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var buffer = new char[limit + 1];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await reader.ReadAsync(buffer.AsMemory(read), ctx.RequestAborted);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read > limit ? null : new string(buffer, 0, read);
    }
}
