namespace Sidus.Store.Capture;

/// <summary>A golden client's address as `image capture` takes it: ssh://[USER@]HOST[:PORT].</summary>
public sealed record SshTarget(string? User, string Host, int? Port)
{
    public static SshTarget Parse(string text)
    {
        const string scheme = "ssh://";
        if (!text.StartsWith(scheme, StringComparison.Ordinal))
        {
            throw new StoreException($"'{text}' is not an ssh:// address: give ssh://[USER@]HOST[:PORT]", StoreErrorKind.Usage);
        }

        var rest = text[scheme.Length..].TrimEnd('/');
        string? user = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            user = rest[..at];
            rest = rest[(at + 1)..];
        }

        int? port = null;
        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            host = close > 1 ? rest[1..close] : throw Bad(text);
            rest = rest[(close + 1)..];
            port = rest.Length == 0 ? null : rest.StartsWith(':') ? ParsePort(rest[1..], text) : throw Bad(text);
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
            port = colon >= 0 ? ParsePort(rest[(colon + 1)..], text) : null;
        }

        // A host or user starting with '-' would be read by ssh as an option.
        if (host.Length == 0 || host.StartsWith('-') || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@') ||
            (user is not null && (user.Length == 0 || user.StartsWith('-') || user.Any(char.IsWhiteSpace))))
        {
            throw Bad(text);
        }

        return new SshTarget(user, host, port);
    }

    /// <summary>[USER@]HOST, as the admin would give it to ssh by hand.</summary>
    public string Destination => (User is null ? "" : User + "@") + Host;

    public override string ToString() =>
        "ssh://" + (User is null ? "" : User + "@") + (Host.Contains(':') ? $"[{Host}]" : Host) + (Port is { } p ? $":{p}" : "");

    private static int ParsePort(string text, string whole) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : throw Bad(whole);

    private static StoreException Bad(string text) =>
        new($"'{text}' is not a usable ssh:// address: give ssh://[USER@]HOST[:PORT]", StoreErrorKind.Usage);
}
