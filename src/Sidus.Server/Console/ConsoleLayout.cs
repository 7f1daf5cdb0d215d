namespace Sidus.Server.WebConsole;

/// <summary>The frame of every console page (head, navigation, sign-out) and how a page is sent.</summary>
internal static class ConsoleLayout
{
    /// <summary>
    /// What a console page may load: its own stylesheet and script, nothing inline, nothing from elsewhere, not framed.
    /// An event text that got through the encoder still could not run.
    /// </summary>
    public const string SecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public enum Section
    {
        None,
        Nodes,
        Images,
        Store,
    }

    public static Markup Page(string title, Section section, ConsoleSession? session, Markup body)
    {
        var html = new Html();
        html.Add($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Sidus</title>
            <link rel="stylesheet" href="{ConsoleRoutes.Css}">
            <script src="{ConsoleRoutes.Script}" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header>
            <a class="brand" href="{ConsoleRoutes.Nodes}">Sidus</a>
            """);
        if (session is not null)
        {
            html.Add($"""
                <nav aria-label="Sections">
                {Link(ConsoleRoutes.Nodes, "Nodes", section == Section.Nodes)}
                {Link(ConsoleRoutes.Images, "Images", section == Section.Images)}
                {Link(ConsoleRoutes.Store, "Store", section == Section.Store)}
                </nav>
                <form class="signout" method="post" action="{ConsoleRoutes.SignOut}">
                <span>token <strong>{session.TokenName}</strong></span>
                <button type="submit">Sign out</button>
                </form>
                """);
        }

        html.Add($"""
            </header>
            <main id="main">
            <h1>{title}</h1>
            {body}
            </main>
            </body>
            </html>

            """);
        return html.ToMarkup();
    }

    public static async Task SendAsync(HttpContext ctx, Markup page, int status = StatusCodes.Status200OK)
    {
        Protect(ctx);
        await Http.HttpHelpers.TextAsync(ctx, page.Value, status, "text/html; charset=utf-8");
    }

    /// <summary>The headers every console answer carries: the policy above, no sniffing, no referrer elsewhere.</summary>
    public static void Protect(HttpContext ctx)
    {
        var headers = ctx.Response.Headers;
        headers.ContentSecurityPolicy = SecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
    }

    /// <summary>A byte count as people read it: 1.5 MiB.</summary>
    public static string Bytes(long bytes) => Sidus.Linux.ByteUnits.Format(bytes);

    /// <summary>A time in UTC, to the second, in a &lt;time&gt; element with its exact value.</summary>
    public static Markup Time(DateTimeOffset at) =>
        Html.Of($"<time datetime=\"{at.ToString("O", CultureInfo.InvariantCulture)}\">{at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z</time>");

    /// <summary>Seconds since a boot began: +12.3 s (markup made of a number only; the encoder would spell "+" as a reference).</summary>
    public static Markup Since(TimeSpan span) => new(string.Create(CultureInfo.InvariantCulture, $"+{span.TotalSeconds:0.0} s"));

    private static Markup Link(string href, string text, bool current) =>
        current ? Html.Of($"<a href=\"{href}\" aria-current=\"page\">{text}</a>") : Html.Of($"<a href=\"{href}\">{text}</a>");
}
