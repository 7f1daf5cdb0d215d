namespace Sidus.Nodes.Overrides;

/// <summary>What kind of entry an override is.</summary>
public enum OverrideKind
{
    File = 1,
    Directory = 2,
    Symlink = 3,
}

/// <summary>
/// One entry of a node's override layer. <see cref="Path"/> is relative to the node's root ("etc/hostname"), never
/// absolute and never with "..". <see cref="Origin"/> is "global", "group:NAME", "node" or "generated".
/// <see cref="Secret"/> marks content that must not be shown (SSH private keys).
/// </summary>
public sealed record OverrideFile(
    string Path,
    OverrideKind Kind,
    byte[] Content,
    uint Mode,
    uint Uid,
    uint Gid,
    string Origin,
    string? LinkTarget = null,
    bool Secret = false,
    string? Source = null)
{
    /// <summary>Permission bits and setuid/setgid/sticky (no file type bits).</summary>
    public const uint PermissionMask = 0xFFF;
}

/// <summary>Where an override came from.</summary>
public static class OverrideOrigins
{
    public const string Global = "global";
    public const string Node = "node";
    public const string Generated = "generated";

    public static string Group(string name) => "group:" + name;
}
