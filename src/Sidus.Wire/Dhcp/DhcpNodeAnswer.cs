namespace Sidus.Wire.Dhcp;

/// <summary>How to answer one known machine. Unset values fall back to the server's defaults.</summary>
public sealed record DhcpNodeAnswer
{
    /// <summary>An answer for a machine that is known but must not be answered (for example, disabled).</summary>
    public static readonly DhcpNodeAnswer Ignored = new() { Ignore = true };

    /// <summary>An answer with every default.</summary>
    public static readonly DhcpNodeAnswer Defaults = new();

    public bool Ignore { get; init; }

    /// <summary>The node's name, for logs and the host name option.</summary>
    public string? NodeName { get; init; }

    /// <summary>A reserved address: the node always gets this one (full mode).</summary>
    public Ip4? FixedAddress { get; init; }

    /// <summary>Boot file for the firmware PXE stage, replacing the one chosen by architecture.</summary>
    public string? BootFile { get; init; }

    /// <summary>Script URL for the iPXE stage, replacing the server's template.</summary>
    public string? ScriptUrl { get; init; }
}
