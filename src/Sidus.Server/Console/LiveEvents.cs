using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;

namespace Sidus.Server.WebConsole;

/// <summary>
/// GET /console/events: the boot events the server stores, as server-sent events, the moment they are stored (from
/// <see cref="BootEventFeed"/>). Each is <c>event: boot</c> with a JSON object: node, mac, stage, at (ISO 8601),
/// atMs (Unix milliseconds) and detail (cleaned of control characters; the page puts it in as text). A comment every
/// <see cref="KeepAlive"/> keeps proxies from closing a quiet stream. The stream ends when the browser leaves, the
/// session ends, or the server stops.
/// </summary>
internal static class LiveEvents
{
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static async Task StreamAsync(HttpContext ctx)
    {
        var feed = ctx.RequestServices.GetRequiredService<BootEventFeed>();
        using var watcher = feed.Watch();
        if (watcher is null)
        {
            ServerLog.ConsoleTooManyWatchers(
                ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Console"), Http.HttpHelpers.Client(ctx), feed.Watchers);
            await Http.HttpHelpers.RefuseAsync(ctx, StatusCodes.Status503ServiceUnavailable, $"{BootEventFeed.MaxWatchers} live views are open already: close one");
            return;
        }

        var stopping = ctx.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        ConsoleLayout.Protect(ctx);
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "text/event-stream; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await WriteAsync(ctx, "retry: 3000\n: live\n\n", stop.Token);
            while (!stop.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                wait.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await watcher.Events.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await WriteAsync(ctx, ": keep-alive\n\n", stop.Token);
                    continue;
                }

                if (!more)
                {
                    return;
                }

                while (watcher.Events.TryRead(out var e))
                {
                    await WriteAsync(ctx, "event: boot\ndata: " + Json(e) + "\n\n", stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The browser left or the server stops: the stream simply ends.
        }
        catch (IOException)
        {
            // The connection went away mid-write.
        }
    }

    /// <summary>One event as the page reads it (a single line: JSON escapes every line break).</summary>
    public static string Json(FedBootEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("node", e.Node);
            json.WriteString("mac", e.Mac.ToString());
            json.WriteString("stage", e.Stage.ToText());
            json.WriteString("at", e.At.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("atMs", e.At.ToUnixTimeMilliseconds());
            json.WriteString("detail", e.Detail);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static async Task WriteAsync(HttpContext ctx, string text, CancellationToken ct)
    {
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await ctx.Response.Body.FlushAsync(ct);
    }
}
