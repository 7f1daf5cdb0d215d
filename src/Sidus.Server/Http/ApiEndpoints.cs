using Sidus.Server.Access;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Hosting;
using Sidus.Server.Http.Api;

namespace Sidus.Server.Http;

/// <summary>
/// The JSON API: <c>POST /api/nodes/{mac}/events</c> (a boot stage report: a <see cref="NodeEvent"/> from the node
/// agent, or stage and detail as a form or query for people with curl), <c>GET /api/status</c>, <c>GET /api/exports</c> (the erofs exports NBD serves), <c>POST /api/apply</c> (what
/// `sidus apply -f` does, for an admin), and <c>GET /healthz</c>. The reads need an admin token unless [api]
/// public-reads is on; /healthz is open to all.
/// </summary>
internal static class ApiEndpoints
{
    /// <summary>Largest event body read: a stage name and a detail line (the store keeps 2048 characters of it).</summary>
    public const int MaxEventBody = 8 * 1024;

    /// <summary>Largest cluster.yaml POST /api/apply reads (an admin's: thousands of nodes fit).</summary>
    public const int MaxApplyBody = 16 * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(NodeRoutes.EventsTemplate, EventAsync);
        app.MapGet("/api/status", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, StatusAsync));
        app.MapGet("/api/exports", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => HttpHelpers.JsonAsync(c, json => WriteNbd(json, c.RequestServices.GetRequiredService<ServerState>(), c.RequestServices.GetRequiredService<ErofsExports>()))));
        app.MapPost("/api/apply", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, ApplyAsync));
        app.MapMethods("/healthz", [HttpMethods.Get, HttpMethods.Head], ctx =>
            HttpHelpers.TextAsync(ctx, $"ok inventory {ctx.RequestServices.GetRequiredService<InventoryView>().Current.Version}\n"));
    }

    private static async Task EventAsync(HttpContext ctx)
    {
        var text = ctx.Request.RouteValues["mac"] as string;
        if (!MacAddress.TryParse(text, out var mac))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{text}' is not a MAC address");
            return;
        }

        // Only the node itself reports its boot: its ticket (before the claim) or its session.
        var subject = NodeAccess.SubjectOf(ctx.RequestServices.GetRequiredService<InventoryView>().Current, mac);
        if (await NodeAuthorization.RequireAsync(ctx, new AccessNeed($"the events of {subject}", Node: subject, Ticket: true)) is null)
        {
            return;
        }

        if (ctx.Request.ContentLength is > MaxEventBody)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status413PayloadTooLarge, $"a boot event is at most {MaxEventBody} bytes");
            return;
        }

        string? stageText = ctx.Request.Query["stage"];
        string? detail = ctx.Request.Query["detail"];
        NodeEvent? report = null;
        var body = await ReadBodyAsync(ctx);
        if (body is null)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status413PayloadTooLarge, $"a boot event is at most {MaxEventBody} bytes");
            return;
        }

        if (body.Length > 0)
        {
            if (ctx.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
            {
                try
                {
                    report = NodeEvent.FromJson(body);
                    stageText = report.Stage ?? stageText;
                    detail = report.Detail ?? detail;
                }
                catch (JsonException e)
                {
                    await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, "the event is not a JSON object {\"stage\": ..., \"detail\": ...}: " + e.Message);
                    return;
                }
            }
            else if (ctx.Request.HasFormContentType)
            {
                var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
                stageText = form["stage"].FirstOrDefault() ?? stageText;
                detail = form["detail"].FirstOrDefault() ?? detail;
            }
        }

        BootStage stage;
        try
        {
            // The node agent reports a failed step as "failed": the inventory calls that stage "error".
            stage = BootStages.Parse(stageText is { } t && t.Trim().Equals(NodeEventStages.Failed, StringComparison.OrdinalIgnoreCase) ? "error" : stageText ?? string.Empty);
        }
        catch (InventoryException e)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        var logger = ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Events");
        ServerLog.BootEventReceived(logger, mac.ToString(), stage.ToText(), EventText.Clean(detail));
        var queued = ctx.RequestServices.GetRequiredService<BootEventRecorder>().Record(
            new BootEvent(mac, stage, DateTimeOffset.UtcNow, detail) { Image = report?.Image, Up = report?.Up });
        await HttpHelpers.TextAsync(
            ctx, queued ? "recorded\n" : "busy: try again\n",
            queued ? StatusCodes.Status202Accepted : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// POST /api/apply: the body is a cluster.yaml, applied exactly as `sidus apply -f` does (one transaction;
    /// ?prune=true and ?dry-run=true as its options); the answer is the lines `sidus apply` prints. A file that does not
    /// read is a 400 naming its line (a problem document with "line" and "column"), a conflict with the stored
    /// inventory a 409; nothing changes then.
    /// </summary>
    private static async Task ApplyAsync(HttpContext ctx)
    {
        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxApplyBody;
        }

        string text;
        try
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            text = await reader.ReadToEndAsync(ctx.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            await HttpHelpers.RefuseAsync(ctx, e.StatusCode, $"the cluster.yaml could not be read: {e.Message} (at most {MaxApplyBody} bytes)");
            return;
        }

        var prune = Flag(ctx, "prune");
        var dryRun = Flag(ctx, "dry-run");
        if (prune is null || dryRun is null)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, "prune and dry-run are true or false");
            return;
        }

        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        Sidus.Nodes.Yaml.ApplyPlan plan;
        try
        {
            var doc = Sidus.Nodes.Yaml.InventoryYaml.Parse(text, "cluster.yaml");
            plan = await Sidus.Nodes.Yaml.InventoryApplier.ApplyAsync(view.Store, doc, prune.Value, dryRun.Value, ctx.RequestAborted);
        }
        catch (InventoryException e) when (e.Kind == InventoryErrorKind.NotFound)
        {
            // What the file names and is missing (an image, a group) is the file's fault: 400, not a missing resource.
            throw new InventoryException(InventoryErrorKind.Invalid, e.Message, e);
        }

        if (plan.Applied)
        {
            ServerLog.AdminApplied(
                ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Admin"),
                AdminAccess.Check(ctx).TokenName!, HttpHelpers.Client(ctx), plan.Summary());

            // Serve the new inventory from the next request on, not from the next poll.
            await ctx.RequestServices.GetRequiredService<InventoryReloader>().ReloadIfChangedAsync(ctx.RequestAborted);
        }

        await HttpHelpers.TextAsync(ctx, string.Join('\n', plan.Describe()) + "\n");
    }

    /// <summary>A true/false query flag: false when absent, null when it is neither.</summary>
    private static bool? Flag(HttpContext ctx, string name) =>
        ctx.Request.Query[name].ToString() switch
        {
            "" or "false" or "0" => false,
            "true" or "1" => true,
            _ => null,
        };

    /// <summary>The body, or null when it is longer than <see cref="MaxEventBody"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext ctx)
    {
        if (ctx.Request.HasFormContentType)
        {
            ctx.Request.EnableBuffering(MaxEventBody);
        }

        var buffer = new byte[MaxEventBody + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await ctx.Request.Body.ReadAsync(buffer.AsMemory(total), ctx.RequestAborted);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        if (total > MaxEventBody)
        {
            return null;
        }

        if (ctx.Request.Body.CanSeek)
        {
            ctx.Request.Body.Position = 0;
        }

        return buffer[..total];
    }

    private static async Task StatusAsync(HttpContext ctx)
    {
        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var server = ctx.RequestServices.GetRequiredService<ServerState>();
        var boots = await view.Store.GetBootStatusAsync(ctx.RequestAborted);
        await HttpHelpers.JsonAsync(ctx, json =>
        {
            json.WriteStartObject();
            json.WriteString("startedAt", server.StartedAt.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("inventoryVersion", view.Current.Version);
            json.WriteNumber("nodes", view.Current.Nodes.Length);
            json.WriteString("http", server.HttpEndpoint?.ToString());
            json.WriteStartObject("tftp");
            json.WriteBoolean("enabled", server.Tftp is not null);
            json.WriteString("endpoint", server.Tftp?.LocalEndPoint.ToString());
            json.WriteNumber("activeTransfers", server.Tftp?.ActiveTransfers ?? 0);
            json.WriteEndObject();
            json.WritePropertyName("nbd");
            WriteNbd(json, server, ctx.RequestServices.GetRequiredService<ErofsExports>());
            json.WriteStartArray("services");
            foreach (var line in server.Describe())
            {
                json.WriteStringValue(line);
            }

            json.WriteEndArray();
            json.WriteStartArray("boots");
            foreach (var b in boots)
            {
                json.WriteStartObject();
                json.WriteString("node", b.Node);
                json.WriteString("mac", b.Mac.ToString());
                json.WriteString("stage", b.Latest.Stage.ToText());
                json.WriteString("at", b.Latest.At.ToString("O", CultureInfo.InvariantCulture));
                json.WriteString("detail", EventText.Clean(b.Latest.Detail));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>The NBD server and its exports: each cached version, its size and the connections reading it.</summary>
    private static void WriteNbd(Utf8JsonWriter json, ServerState server, ErofsExports exports)
    {
        json.WriteStartObject();
        json.WriteBoolean("enabled", server.Nbd is not null);
        json.WriteString("endpoint", server.Nbd?.LocalEndPoint.ToString());
        json.WriteNumber("connections", server.Nbd?.ActiveConnections ?? 0);
        json.WriteStartArray("exports");
        foreach (var e in server.Nbd is null ? [] : exports.Status())
        {
            json.WriteStartObject();
            json.WriteString("version", e.Version.ToString());
            json.WriteNumber("size", e.Size);
            json.WriteNumber("openConnections", e.OpenConnections);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("clients");
        foreach (var c in server.Nbd?.Connections ?? [])
        {
            json.WriteStartObject();
            json.WriteString("client", c.Client?.ToString());
            json.WriteString("export", c.Export);
            json.WriteNumber("bytesRead", c.BytesRead);
            json.WriteNumber("reads", c.Reads);
            json.WriteString("since", c.Since.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

}
