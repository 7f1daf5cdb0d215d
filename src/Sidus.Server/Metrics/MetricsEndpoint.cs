using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Hosting;

namespace Sidus.Server.Metrics;

/// <summary>
/// <c>GET /metrics</c>: every instrument in the Prometheus text format, plus what is read from the inventory at
/// each scrape (nodes by the stage of their latest boot) and <c>sidus_build_info</c>. Open to anyone with
/// <c>[api] public-metrics</c> (figures only: no names, MACs or addresses), else as the API's reads: an admin token
/// unless <c>[api] public-reads</c>. Also the middleware that counts every HTTP answer and its bytes by kind.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Where a node never reported a boot.</summary>
    public const string NeverBooted = "never";

    private static readonly string Version =
        typeof(MetricsEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static void Map(IEndpointRouteBuilder app) => app.MapGet(Path, ScrapeAsync);

    private static async Task ScrapeAsync(HttpContext ctx)
    {
        var api = ctx.RequestServices.GetRequiredService<RunningOptions>().Current.Api;
        if (!api.PublicMetrics && !api.PublicReads && !await Http.AdminAccess.RequireAsync(ctx))
        {
            return;
        }

        var text = new StringBuilder();
        PrometheusText.WriteFamily(text, "sidus_build_info", "gauge", "The running sidus, by version", [($"version=\"{PrometheusText.Escape(Version)}\"", 1)]);
        foreach (var family in ctx.RequestServices.GetRequiredService<MetricsCollector>().Collect())
        {
            PrometheusText.WriteFamily(text, family.Name, family.Type, family.Help, family.Samples);
        }

        await WriteNodeStatesAsync(ctx, text);
        await Http.HttpHelpers.TextAsync(ctx, text.ToString(), contentType: PrometheusText.ContentType);
    }

    /// <summary><c>sidus_nodes{state}</c>: every node counted once, by its latest boot's stage (or "never"); they sum to the fleet.</summary>
    private static async Task WriteNodeStatesAsync(HttpContext ctx, StringBuilder text)
    {
        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var latest = (await view.Store.GetBootStatusAsync(ctx.RequestAborted))
            .Where(s => s.Node is not null).GroupBy(s => s.Node!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(s => s.Latest.At)!.Latest.Stage.ToText(), StringComparer.Ordinal);
        var counts = Enum.GetValues<BootStage>().Select(s => s.ToText()).Append(NeverBooted).ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        foreach (var node in view.Current.Nodes)
        {
            counts[latest.GetValueOrDefault(node.Name, NeverBooted)]++;
        }

        PrometheusText.WriteFamily(text, "sidus_nodes", "gauge", "Nodes in the inventory by the stage of their latest boot (never: no boot reported)",
            counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => ($"state=\"{c.Key}\"", c.Value)));
    }

    /// <summary>Counts each HTTP answer by kind and status class, and the bytes of those sent in full.</summary>
    public static async Task CountAsync(HttpContext ctx, RequestDelegate next)
    {
        await next(ctx);
        var sent = ctx.RequestAborted.IsCancellationRequested || HttpMethods.IsHead(ctx.Request.Method) ? 0 : ctx.Response.ContentLength ?? 0;
        ServerMetrics.HttpAnswered(Kind(ctx.Request.Path), ctx.Response.StatusCode, sent);
    }

    /// <summary>The kind of resource a path names: a fixed set, so no label carries a MAC, an address or an id.</summary>
    public static string Kind(PathString path) =>
        path.StartsWithSegments("/images", StringComparison.Ordinal) ? "boot_file"
        : path.StartsWithSegments("/api/content", StringComparison.Ordinal) || path.StartsWithSegments("/api/versions", StringComparison.Ordinal) ? "content"
        : path.StartsWithSegments("/boot", StringComparison.Ordinal) ? "script"
        : path.Value?.EndsWith("/overrides.tar", StringComparison.Ordinal) == true ? "overrides"
        : path.StartsWithSegments(Path, StringComparison.Ordinal) ? "metrics"
        : path.StartsWithSegments("/api", StringComparison.Ordinal) ? "api"
        : "other";
}
