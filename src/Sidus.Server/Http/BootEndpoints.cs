using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Wire.Ipxe;

namespace Sidus.Server.Http;

/// <summary>
/// <c>GET /boot/ipxe</c> (the chain entry) and <c>GET /boot/{mac}.ipxe</c> (a machine's own script). A script is
/// answered at once, never after a build: while the version's artifacts are made it says so, with Retry-After.
/// </summary>
internal static class BootEndpoints
{
    /// <summary>Largest attempt number taken from a URL; scripts stop long before it.</summary>
    private const int MaxAttempt = 100_000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods(NodeRoutes.Chain, [HttpMethods.Get, HttpMethods.Head], ctx => HttpHelpers.TextAsync(ctx, IpxeScript.Chain(NodeRoutes.ScriptPrefix)));
        app.MapMethods(NodeRoutes.ScriptTemplate, [HttpMethods.Get, HttpMethods.Head], ScriptAsync);
    }

    private static Task ScriptAsync(HttpContext ctx)
    {
        var services = ctx.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Boot");
        var client = HttpHelpers.Client(ctx);
        var text = ctx.Request.RouteValues["mac"] as string;
        if (!MacAddress.TryParse(text, out var mac))
        {
            return HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"'{text}' is not a MAC address");
        }

        var attempt = 1;
        if (ctx.Request.Query[BootScripts.AttemptParameter] is { Count: 1 } a
            && int.TryParse(a[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxAttempt)
        {
            attempt = n;
        }

        BootMode? mode = null;
        if (ctx.Request.Query[BootScripts.ModeParameter] is { Count: 1 } m)
        {
            try
            {
                mode = BootModeSetting.Parse(m[0] ?? string.Empty);
            }
            catch (InventoryException e)
            {
                return HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, e.Message);
            }
        }

        var answer = services.GetRequiredService<BootScripts>().Answer(mac, client, HttpHelpers.Server(ctx), mode, attempt);
        if (answer.Refused)
        {
            ServerLog.ScriptRefused(logger, mac.ToString(), client, answer.Decision);
        }
        else
        {
            ServerLog.ScriptServed(logger, mac.ToString(), client, answer.Node ?? "(none)", answer.Decision);
        }

        // Another machine asking for a node's script must not move the node's recorded stage (a forged state).
        if (!HttpMethods.IsHead(ctx.Request.Method) && !answer.NotTheNode)
        {
            services.GetRequiredService<RecentClients>().Remember(client, mac, answer.Node);
            services.GetRequiredService<BootEventRecorder>().Record(
                new BootEvent(mac, BootStage.Script, DateTimeOffset.UtcNow, answer.Decision, answer.Node));
        }

        if (answer.RetryAfter is { } wait)
        {
            // The wait the script sleeps, for HTTP clients other than iPXE (the answer is no-store: no cache keeps it).
            ctx.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return HttpHelpers.TextAsync(ctx, answer.Script);
    }
}
