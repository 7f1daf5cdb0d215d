using Sidus.Server.Http;

namespace Sidus.Server.WebConsole;

/// <summary>
/// Signing in and out. The form takes an admin token (`sidus token create NAME`), checked exactly as the API checks
/// one (<see cref="AdminAccess.Verify"/>); a valid one opens a session (<see cref="ConsoleSessions"/>), a wrong one
/// gets the page again with the reason, and the status 403. Both POSTs must come from this console's own pages.
/// </summary>
internal static class SignInPage
{
    public static Markup Render(string next, string? error)
    {
        var body = new Html();
        if (error is not null)
        {
            body.Add($"<p class=\"error\" id=\"sign-in-error\" role=\"alert\">{error}</p>\n");
        }

        body.Add($"""
            <form class="sign-in" method="post" action="{ConsoleRoutes.SignIn}">
            <input type="hidden" name="next" value="{next}">
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="off" required maxlength="{Nodes.Access.AdminTokenSecret.MaxLength}" aria-describedby="token-help">
            <p id="token-help" class="help">An admin token of this server: <code>sidus token create NAME</code> prints one. It is checked here once; the browser keeps only a session cookie.</p>
            <button type="submit">Sign in</button>
            </form>

            """);
        return ConsoleLayout.Page("Sign in", ConsoleLayout.Section.None, null, body.ToMarkup());
    }

    public static async Task GetAsync(HttpContext ctx)
    {
        var next = ConsoleAccess.SafeNext(ctx.Request.Query["next"]);
        if (ConsoleAccess.Session(ctx) is not null)
        {
            ctx.Response.Redirect(next);
            return;
        }

        await ConsoleLayout.SendAsync(ctx, Render(next, null));
    }

    public static async Task PostAsync(HttpContext ctx)
    {
        var log = Logger(ctx);
        if (ConsoleAccess.CrossOrigin(ctx) is { } crossOrigin)
        {
            await RefuseCrossOriginAsync(ctx, crossOrigin);
            return;
        }

        if (!ctx.Request.HasFormContentType)
        {
            await ConsoleLayout.SendAsync(ctx, Render(ConsoleRoutes.Nodes, "The sign-in is a form with the admin token."), StatusCodes.Status400BadRequest);
            return;
        }

        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        var next = ConsoleAccess.SafeNext(form["next"]);
        var secret = form["token"].ToString().Trim();
        var verdict = secret.Length == 0
            ? AdminVerdict.Refused(StatusCodes.Status403Forbidden, "no token was given")
            : AdminAccess.Verify(ctx, secret);
        if (!verdict.IsAdmin)
        {
            ServerLog.ConsoleSignInRefused(log, HttpHelpers.Client(ctx), verdict.Reason);
            ctx.Items[HttpHelpers.RefusalKey] = "console sign-in: " + verdict.Reason;
            await ConsoleLayout.SendAsync(ctx, Render(next, $"Not signed in: {verdict.Reason}. Check the token (`sidus token list` shows which exist)."), StatusCodes.Status403Forbidden);
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var token = ctx.RequestServices.GetRequiredService<InventoryView>().Current.AdminTokens.First(t => t.Name == verdict.TokenName);
        var id = ctx.RequestServices.GetRequiredService<ConsoleSessions>().Open(token, now);
        ConsoleAccess.SetCookie(ctx, id);
        ServerLog.ConsoleSignedIn(log, token.Name, HttpHelpers.Client(ctx));
        ConsoleLayout.Protect(ctx);
        ctx.Response.Redirect(next);
    }

    public static async Task SignOutAsync(HttpContext ctx)
    {
        if (ConsoleAccess.CrossOrigin(ctx) is { } crossOrigin)
        {
            await RefuseCrossOriginAsync(ctx, crossOrigin);
            return;
        }

        if (ConsoleAccess.Session(ctx) is { } session)
        {
            ServerLog.ConsoleSignedOut(Logger(ctx), session.TokenName, HttpHelpers.Client(ctx));
        }

        ctx.RequestServices.GetRequiredService<ConsoleSessions>().Close(ctx.Request.Cookies[ConsoleSessions.CookieName]);
        ConsoleAccess.ClearCookie(ctx);
        ConsoleLayout.Protect(ctx);
        ctx.Response.Redirect(ConsoleRoutes.SignIn);
    }

    private static async Task RefuseCrossOriginAsync(HttpContext ctx, string reason)
    {
        ServerLog.ConsoleCrossOriginRefused(Logger(ctx), ctx.Request.Method, ctx.Request.Path.ToString(), HttpHelpers.Client(ctx), reason);
        ConsoleLayout.Protect(ctx);
        await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status403Forbidden, "refused: " + reason);
    }

    private static ILogger Logger(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Console");
}
