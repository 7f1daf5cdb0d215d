using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Server.Http;

namespace Sidus.Server.WebConsole;

/// <summary>
/// The web console at / (docs/console.md): server-rendered pages under /console/, the live event stream, and its one
/// stylesheet and one script, embedded in the server. Every page and the stream need a signed-in session
/// (<see cref="ConsoleAccess"/>); without one a page sends the browser to the sign-in form and the stream answers 401.
/// </summary>
internal static class ConsoleEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", ctx => RedirectAsync(ctx, ConsoleRoutes.Nodes));
        app.MapGet("/console", ctx => RedirectAsync(ctx, ConsoleRoutes.Nodes));
        app.MapGet(ConsoleRoutes.SignIn, SignInPage.GetAsync);
        app.MapPost(ConsoleRoutes.SignIn, SignInPage.PostAsync);
        app.MapPost(ConsoleRoutes.SignOut, SignInPage.SignOutAsync);
        app.MapGet(ConsoleRoutes.Nodes, NodesAsync);
        app.MapGet("/console/nodes/{name}", NodeAsync);
        app.MapGet(ConsoleRoutes.Images, ImagesAsync);
        app.MapGet("/console/images/{name}", ImageAsync);
        app.MapGet("/console/images/{name}/diff", DiffAsync);
        app.MapGet(ConsoleRoutes.Store, StoreAsync);
        app.MapGet(ConsoleRoutes.Events, EventsAsync);
        app.MapGet(ConsoleRoutes.Css, ctx => ConsoleAssets.SendAsync(ctx, ConsoleAssets.Css, "text/css; charset=utf-8"));
        app.MapGet(ConsoleRoutes.Script, ctx => ConsoleAssets.SendAsync(ctx, ConsoleAssets.Script, "text/javascript; charset=utf-8"));
    }

    private static Task NodesAsync(HttpContext ctx) => PageAsync(ctx, async s => await NodesPage.RenderAsync(ctx, s));

    private static Task NodeAsync(HttpContext ctx) => PageAsync(ctx, s => NodePage.RenderAsync(ctx, s, Route(ctx, "name")));

    private static Task ImagesAsync(HttpContext ctx) => PageAsync(ctx, s => ImagesPage.ListAsync(ctx, s));

    private static Task ImageAsync(HttpContext ctx) => PageAsync(ctx, s => ImagesPage.VersionsAsync(ctx, s, Route(ctx, "name")));

    private static Task DiffAsync(HttpContext ctx) => PageAsync(ctx, s =>
        Number(ctx, "from") is { } from && Number(ctx, "to") is { } to ? ImagesPage.DiffAsync(ctx, s, Route(ctx, "name"), from, to) : Task.FromResult<Markup?>(null));

    private static Task StoreAsync(HttpContext ctx) => PageAsync(ctx, s => StorePage.RenderAsync(ctx, s));

    /// <summary>A page for a signed-in browser: rendered, or 404 when RENDER finds nothing by that name.</summary>
    private static async Task PageAsync(HttpContext ctx, Func<ConsoleSession, Task<Markup?>> render)
    {
        if (ConsoleAccess.Session(ctx) is not { } session)
        {
            var here = ctx.Request.Path.ToString() + ctx.Request.QueryString.ToString();
            await RedirectAsync(ctx, ConsoleRoutes.SignIn + "?next=" + Uri.EscapeDataString(here));
            return;
        }

        Markup? page;
        try
        {
            page = await render(session);
        }
        catch (Exception e) when (e is Sidus.Store.StoreException or IOException or InventoryException or System.Data.Common.DbException or Sidus.Linux.LinuxException)
        {
            ServerLog.ConsolePageFailed(ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Console"), ctx.Request.Path.ToString(), e.Message);
            ctx.Items[HttpHelpers.RefusalKey] = e.Message;
            await ConsoleLayout.SendAsync(ctx, Problem(session, "This page could not be made", e.Message), StatusCodes.Status500InternalServerError);
            return;
        }

        if (page is null)
        {
            ctx.Items[HttpHelpers.RefusalKey] = "no such console page";
            await ConsoleLayout.SendAsync(ctx, Problem(session, "Not found", $"Nothing is named that here: {ctx.Request.Path}"), StatusCodes.Status404NotFound);
            return;
        }

        await ConsoleLayout.SendAsync(ctx, page.Value);
    }

    private static async Task EventsAsync(HttpContext ctx)
    {
        if (ConsoleAccess.Session(ctx) is null)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status401Unauthorized, $"the live view needs a console session: sign in at {ConsoleRoutes.SignIn}");
            return;
        }

        await LiveEvents.StreamAsync(ctx);
    }

    private static Markup Problem(ConsoleSession session, string title, string text) =>
        ConsoleLayout.Page(title, ConsoleLayout.Section.None, session, Html.Of($"<p class=\"error\" role=\"alert\">{text}</p>"));

    private static Task RedirectAsync(HttpContext ctx, string to)
    {
        ConsoleLayout.Protect(ctx);
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Redirect(to);
        return Task.CompletedTask;
    }

    private static string Route(HttpContext ctx, string name) => ctx.Request.RouteValues[name] as string ?? string.Empty;

    private static long? Number(HttpContext ctx, string name) =>
        long.TryParse(ctx.Request.Query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
