namespace Sidus.Wire.Contracts;

/// <summary>
/// A version as an installed node names it: the version id and IMAGE@SEQ, one line "VERSIONID IMAGE@SEQ". The
/// format of <see cref="InstalledNode.VersionFile"/> (what the disk holds) and of the answer of
/// <see cref="NodeRoutes.TargetTemplate"/> (what the server says the node should run). REF is "?" when the
/// version was given by id alone (`sidus-agent update --to VERSIONID`).
/// </summary>
public sealed record NodeVersion(string Id, string Ref)
{
    public const int IdLength = 64;

    public string Format() => $"{Id} {Ref}\n";

    /// <summary>Reads <see cref="Format"/>'s line; null when it is not one.</summary>
    public static NodeVersion? Parse(string? text)
    {
        var parts = (text ?? string.Empty).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 && parts[0].Length == IdLength && parts[0].All(char.IsAsciiHexDigitLower)
            ? new NodeVersion(parts[0], parts[1])
            : null;
    }
}
