namespace Sidus.Wire.Contracts;

/// <summary>
/// How a booting node proves who it is (docs/node-access.md). The boot script carries a one-boot <em>ticket</em>
/// (sidus.ticket on the kernel command line, and <see cref="TicketParameter"/> on the URLs of the version's boot
/// files, since iPXE cannot send headers). The agent exchanges it once, by POSTing it to <see cref="NodeRoutes.Claim"/>,
/// for a <em>session</em>, which every later request carries: HTTP as <c>Authorization: Bearer SESSION</c>, NBD
/// inside the export name (<see cref="ExportName"/>). Both are opaque to the node: base64url text the server signs.
/// </summary>
public static class NodeCredentials
{
    /// <summary>The query parameter of a boot file's URL that carries the ticket.</summary>
    public const string TicketParameter = "ticket";

    /// <summary>The HTTP authentication scheme of the session.</summary>
    public const string Scheme = "Bearer";

    /// <summary>Between the export and the session in an NBD export name: no version id or token holds it.</summary>
    public const char ExportSeparator = '!';

    /// <summary>Longest credential accepted (ours are about 130 characters).</summary>
    public const int MaxLength = 512;

    /// <summary>The NBD export name that carries a session: EXPORT!SESSION.</summary>
    public static string ExportName(string export, string session) => export + ExportSeparator + session;

    /// <summary>An NBD export name split into the export and the credential (null when it carries none).</summary>
    public static (string Export, string? Credential) SplitExportName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var at = name.IndexOf(ExportSeparator, StringComparison.Ordinal);
        return at < 0 ? (name, null) : (name[..at], name[(at + 1)..]);
    }

    /// <summary>A boot file's path with the ticket as its query.</summary>
    public static string WithTicket(string path, string ticket) => $"{path}?{TicketParameter}={ticket}";

    /// <summary>The Authorization header's value for a session.</summary>
    public static string Authorization(string session) => Scheme + " " + session;

    /// <summary>True when TEXT has the shape of a credential (base64url, not too long): anything else is refused unread.</summary>
    public static bool IsWellFormed(string? text) =>
        text is { Length: > 0 and <= MaxLength } && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
