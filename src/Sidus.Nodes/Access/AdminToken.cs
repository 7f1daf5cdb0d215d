using System.Buffers.Text;
using System.Security.Cryptography;

namespace Sidus.Nodes.Access;

/// <summary>
/// An admin token as the inventory keeps it: a name, the SHA-256 of the secret (never the secret), and when it was
/// made, expires and was last used.
/// </summary>
public sealed record AdminToken(string Name, string Hash, DateTimeOffset Created, DateTimeOffset? Expires, DateTimeOffset? LastUsed)
{
    public bool IsExpired(DateTimeOffset now) => Expires is { } e && now >= e;
}

/// <summary>
/// The secret half of an admin token: "sidus_" and 32 random bytes in base64url. The inventory stores its SHA-256
/// only; a plain hash is right for a secret of 256 random bits (nothing to guess, so no slow KDF is needed).
/// </summary>
public static class AdminTokenSecret
{
    public const string Prefix = "sidus_";

    public const int RandomBytes = 32;

    /// <summary>Longest text read as a token; anything longer is no token of ours.</summary>
    public const int MaxLength = 128;

    public static string New() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>
    /// The token among <paramref name="tokens"/> whose hash is <paramref name="token"/>'s, compared in constant time
    /// against every one (so how long the search takes says nothing about how close a guess was); null when none is.
    /// </summary>
    public static AdminToken? Find(string token, IEnumerable<AdminToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (token.Length is 0 or > MaxLength)
        {
            return null;
        }

        var hash = Encoding.ASCII.GetBytes(Hash(token));
        AdminToken? found = null;
        foreach (var t in tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(t.Hash)))
            {
                found = t;
            }
        }

        return found;
    }
}
