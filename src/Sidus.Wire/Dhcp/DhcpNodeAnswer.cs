namespace Sidus.Wire.Dhcp;

/// <summary>How to answer one machine, a node or not. Unset values fall back to the server's defaults.</summary>
public sealed record DhcpNodeAnswer
{
    /// <summary>A machine that is no node, answered with the server's defaults (boot files by architecture, the script
    /// URL template).</summary>
    public static readonly DhcpNodeAnswer UnknownWithDefaults = new() { UnknownPolicy = "unknown machine, server defaults" };

    /// <summary>A machine that is no node, given an address and nothing to boot.</summary>
    public static readonly DhcpNodeAnswer UnknownNoBoot = new() { UnknownPolicy = "unknown machine, no boot", Boot = false };

    /// <summary>An answer that is not one: the request is dropped for this reason, which is logged.</summary>
    public static DhcpNodeAnswer Ignored(string reason) => new() { IgnoreReason = reason };

    /// <summary>Set when the request is not to be answered at all, saying why (for the log).</summary>
    public string? IgnoreReason { get; init; }

    /// <summary>The node's name, for logs and the script URL; null for a machine that is no node.</summary>
    public string? NodeName { get; init; }

    /// <summary>A reserved address: the node always gets this one (full mode).</summary>
    public Ip4? FixedAddress { get; init; }

    /// <summary>Boot file for the firmware PXE stage, replacing the one chosen by architecture.</summary>
    public string? BootFile { get; init; }

    /// <summary>Script URL for the iPXE stage, replacing the server's template.</summary>
    public string? ScriptUrl { get; init; }

    /// <summary>False: an address (full mode) with the network's options and nothing to boot: no next-server, boot
    /// file or PXE options; proxy mode and the boot server (port 4011) do not answer at all.</summary>
    public bool Boot { get; init; } = true;

    /// <summary>For a machine that is no node: what decided its answer, said in each log line about it ("unknown
    /// machine, network lab policy ignore"). Null for a node. Lines about such machines are rate-limited.</summary>
    public string? UnknownPolicy { get; init; }

    public bool IsUnknown => UnknownPolicy is not null;
}
