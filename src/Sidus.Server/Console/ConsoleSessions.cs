using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Sidus.Nodes.Access;

namespace Sidus.Server.WebConsole;

/// <summary>One signed-in browser: the admin token it signed in with (by hash and name) and when the session ends.</summary>
public sealed record ConsoleSession(string TokenName, string TokenHash, DateTimeOffset Expires);

/// <summary>
/// The web console's sign-ins, held in memory: a browser gets a random session id in a cookie, never the admin token
/// itself, so the token typed once is not sent again with every request or kept by the browser. A session lasts
/// <see cref="Lifetime"/> at most and only while its token is valid: a token revoked or expired (`sidus token
/// revoke`) ends its sessions at the next request. A restart of the server signs everyone out.
/// </summary>
public sealed class ConsoleSessions
{
    public const string CookieName = "sidus_console";

    /// <summary>Sessions held at most; past it the oldest goes (an admin's browsers, not a crowd).</summary>
    public const int MaxSessions = 1024;

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    // SHA-256 of the session id -> the session: a dump of this memory holds no usable cookie.
    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    /// <summary>A new session for a token just verified; returns the id to put in the cookie.</summary>
    public string Open(AdminToken token, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        Prune(now);
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var ends = token.Expires is { } e && e < now + Lifetime ? e : now + Lifetime;
        _sessions[Key(id)] = new ConsoleSession(token.Name, token.Hash, ends);
        return id;
    }

    /// <summary>The session of cookie value <paramref name="id"/> when it is open and its token still valid; null otherwise.</summary>
    public ConsoleSession? Find(string? id, IEnumerable<AdminToken> tokens, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (string.IsNullOrEmpty(id) || id.Length > 64 || !_sessions.TryGetValue(Key(id), out var session))
        {
            return null;
        }

        var token = tokens.FirstOrDefault(t => t.Name == session.TokenName);
        if (now >= session.Expires || token is null || token.Hash != session.TokenHash || token.IsExpired(now))
        {
            _sessions.TryRemove(Key(id), out _);
            return null;
        }

        return session;
    }

    public void Close(string? id)
    {
        if (!string.IsNullOrEmpty(id) && id.Length <= 64)
        {
            _sessions.TryRemove(Key(id), out _);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, session) in _sessions)
        {
            if (now >= session.Expires)
            {
                _sessions.TryRemove(key, out _);
            }
        }

        while (_sessions.Count >= MaxSessions && _sessions.OrderBy(s => s.Value.Expires).FirstOrDefault() is { Key: { } oldest })
        {
            _sessions.TryRemove(oldest, out _);
        }
    }

    private static string Key(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
