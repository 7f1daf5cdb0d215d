namespace Sidus.Server.WebConsole;

/// <summary>
/// Who may see the console, defined once: a browser with an open session (<see cref="ConsoleSessions"/>), whose
/// cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and Secure when the
/// console is reached over HTTPS. A POST must also come from a page of this console: its Origin header (which
/// browsers send with every POST and pages cannot forge) must be this server's own.
/// </summary>
internal static class ConsoleAccess
{
    private const string SessionKey = "sidus.console.session";

    /// <summary>The request's session, or null when it has none (or one that ended).</summary>
    public static ConsoleSession? Session(HttpContext ctx)
    {
        if (ctx.Items.TryGetValue(SessionKey, out var known))
        {
            return known as ConsoleSession;
        }

        var sessions = ctx.RequestServices.GetRequiredService<ConsoleSessions>();
        var tokens = ctx.RequestServices.GetRequiredService<InventoryView>().Current.AdminTokens;
        var session = sessions.Find(ctx.Request.Cookies[ConsoleSessions.CookieName], tokens, DateTimeOffset.UtcNow);
        ctx.Items[SessionKey] = session;
        return session;
    }

    /// <summary>
    /// Sets the session cookie (the id only; the browser never keeps the token). Secure when the browser reached the
    /// console over HTTPS: this connection's, or a TLS proxy's in front (the form's Origin, checked before, says https).
    /// </summary>
    public static void SetCookie(HttpContext ctx, string id) =>
        ctx.Response.Cookies.Append(ConsoleSessions.CookieName, id, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = ctx.Request.IsHttps || ctx.Request.Headers.Origin.ToString().StartsWith("https://", StringComparison.OrdinalIgnoreCase),
            Path = "/",
            MaxAge = ConsoleSessions.Lifetime,
            IsEssential = true,
        });

    public static void ClearCookie(HttpContext ctx) =>
        ctx.Response.Cookies.Delete(ConsoleSessions.CookieName, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = ctx.Request.IsHttps,
            Path = "/",
        });

    /// <summary>
    /// Null when the request came from a page of this console: its Origin is http or https with this request's host
    /// and port (https too, for a TLS proxy in front that passes the Host header on); otherwise why it is refused. A
    /// POST without Origin is refused too: every browser sends it with a POST, so only a forged or scripted request
    /// lacks it.
    /// </summary>
    public static string? CrossOrigin(HttpContext ctx)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return "no Origin header (the console's forms are posted by a browser, which sends one)";
        }

        var host = ctx.Request.Host.Value ?? string.Empty;
        var own = origin.Equals("http://" + host, StringComparison.OrdinalIgnoreCase)
                  || origin.Equals("https://" + host, StringComparison.OrdinalIgnoreCase);
        return own ? null : $"Origin {origin} is not this console's ({ctx.Request.Scheme}://{host})";
    }

    /// <summary>Where to go after signing in: a console page of ours, never another site (an open redirect).</summary>
    public static string SafeNext(string? next) =>
        next is { Length: > 0 and < 512 } n && n.StartsWith(ConsoleRoutes.Prefix, StringComparison.Ordinal) && !n.Contains("//", StringComparison.Ordinal)
            && !n.Contains('\\', StringComparison.Ordinal) && !n.StartsWith(ConsoleRoutes.SignIn, StringComparison.Ordinal)
            ? n
            : ConsoleRoutes.Nodes;
}
