namespace Sidus.Server.WebConsole;

/// <summary>
/// The console's stylesheet and script, embedded in the server (no files to install, nothing fetched from elsewhere).
/// They change only with the binary, so browsers may keep them for an hour.
/// </summary>
internal static class ConsoleAssets
{
    public static readonly byte[] Css = Load("console.css");

    public static readonly byte[] Script = Load("console.js");

    public static async Task SendAsync(HttpContext ctx, byte[] content, string contentType)
    {
        ConsoleLayout.Protect(ctx);
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = content.Length;
        ctx.Response.Headers.CacheControl = "private, max-age=3600";
        if (!HttpMethods.IsHead(ctx.Request.Method))
        {
            await ctx.Response.Body.WriteAsync(content, ctx.RequestAborted);
        }
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("Sidus.Server.Console." + name)
                           ?? throw new InvalidOperationException($"the console's {name} is not embedded in Sidus.Server");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
