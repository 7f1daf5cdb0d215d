using System.Collections.Concurrent;
using Sidus.Nodes.Access;

namespace Sidus.Server.Http;

/// <summary>
/// Who is an admin over HTTP, defined once: a request with <c>Authorization: Bearer TOKEN</c> where TOKEN is an admin
/// token of the inventory the server holds (<c>sidus token create</c>; matched by its SHA-256 in constant time) that
/// has not expired. A token made or revoked takes effect when the server reloads the inventory (within the
/// inventory poll interval, 1 s by default). Refusals are logged with their reason, never with the token.
/// </summary>
public static class AdminAccess
{
    /// <summary>How often a token's "last used" time is written at most (each use would be a database write).</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private const string Scheme = "Bearer ";
    private const string VerdictKey = "sidus.admin";

    // Token hash -> when its use was last written (Environment.TickCount64): one entry per valid token at most.
    private static readonly ConcurrentDictionary<string, long> LastWritten = new(StringComparer.Ordinal);

    /// <summary>True when the request carries a valid admin token.</summary>
    public static bool IsAdmin(HttpContext ctx) => Check(ctx).IsAdmin;

    /// <summary>
    /// The verdict on the request's token, worked out once per request: admin (with the token's name), no token
    /// (401) or a token that is not valid (403), with the reason.
    /// </summary>
    public static AdminVerdict Check(HttpContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (ctx.Items.TryGetValue(VerdictKey, out var known) && known is AdminVerdict v)
        {
            return v;
        }

        var verdict = Decide(ctx);
        ctx.Items[VerdictKey] = verdict;
        if (!verdict.IsAdmin && verdict.Status == StatusCodes.Status403Forbidden)
        {
            ServerLog.AdminRefused(Logger(ctx), ctx.Request.Method, ctx.Request.Path.ToString(), HttpHelpers.Client(ctx), verdict.Reason);
        }

        return verdict;
    }

    /// <summary>
    /// Lets an admin through (true); otherwise answers 401 (no token, with <c>WWW-Authenticate: Bearer</c>) or 403 (a
    /// token that is not valid) and returns false.
    /// </summary>
    public static async Task<bool> RequireAsync(HttpContext ctx)
    {
        var verdict = Check(ctx);
        if (verdict.IsAdmin)
        {
            return true;
        }

        if (verdict.Status == StatusCodes.Status401Unauthorized)
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer realm=\"sidus\"";
        }

        await HttpHelpers.RefuseAsync(ctx, verdict.Status, verdict.Reason);
        return false;
    }

    private static AdminVerdict Decide(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AdminVerdict.Refused(StatusCodes.Status401Unauthorized,
                "this needs an admin token: send 'Authorization: Bearer TOKEN' (`sidus token create NAME` makes one)");
        }

        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return AdminVerdict.Refused(StatusCodes.Status403Forbidden, "the Authorization header is not 'Bearer TOKEN'");
        }

        return Verify(ctx, header[Scheme.Length..].Trim());
    }

    /// <summary>
    /// The verdict on <paramref name="secret"/> as an admin token, wherever the request carried it (the header, or
    /// the web console's sign-in form): admin, or 403 with the reason. Its use is noted.
    /// </summary>
    public static AdminVerdict Verify(HttpContext ctx, string secret)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var token = AdminTokenSecret.Find(secret, view.Current.AdminTokens);
        if (token is null)
        {
            return AdminVerdict.Refused(StatusCodes.Status403Forbidden, "the admin token is not valid (unknown or revoked)");
        }

        var now = DateTimeOffset.UtcNow;
        if (token.IsExpired(now))
        {
            return AdminVerdict.Refused(StatusCodes.Status403Forbidden,
                $"admin token '{token.Name}' expired at {token.Expires!.Value.ToString("u", CultureInfo.InvariantCulture)}");
        }

        NoteUse(ctx, view, token, now);
        return new AdminVerdict(true, token.Name, StatusCodes.Status200OK, "admin");
    }

    /// <summary>Writes the token's "last used" time, at most once per <see cref="LastUsedResolution"/>, off the request.</summary>
    private static void NoteUse(HttpContext ctx, InventoryView view, AdminToken token, DateTimeOffset now)
    {
        var tick = Environment.TickCount64;
        var last = LastWritten.GetOrAdd(token.Hash, long.MinValue);
        if (last != long.MinValue && tick - last < (long)LastUsedResolution.TotalMilliseconds
            || !LastWritten.TryUpdate(token.Hash, tick, last))
        {
            return;
        }

        var log = Logger(ctx);
        _ = Task.Run(async () =>
        {
            try
            {
                await view.Store.TouchAdminTokenAsync(token.Name, now);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                ServerLog.AdminTokenUseNotRecorded(log, token.Name, e.Message);
            }
        });
    }

    private static ILogger Logger(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Admin");
}

/// <summary>What <see cref="AdminAccess.Check"/> decided about one request.</summary>
public sealed record AdminVerdict(bool IsAdmin, string? TokenName, int Status, string Reason)
{
    public static AdminVerdict Refused(int status, string reason) => new(false, null, status, reason);
}
