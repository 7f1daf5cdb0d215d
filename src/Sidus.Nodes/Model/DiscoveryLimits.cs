namespace Sidus.Nodes;

/// <summary>
/// How many discovered machines the inventory keeps: at most <see cref="PerNetwork"/> on one network and
/// <see cref="Total"/> in all. A machine already listed is always updated; a new one past a limit is not registered
/// (anyone on a boot network can invent MACs, so the list must not grow with them).
/// </summary>
public sealed record DiscoveryLimits(int PerNetwork, int Total)
{
    /// <summary>A /24's worth of machines per network, four networks' worth in all.</summary>
    public static readonly DiscoveryLimits Default = new(256, 1024);
}

/// <summary>What registering a discovered machine did.</summary>
public enum DiscoveryOutcome
{
    /// <summary>Listed now, or its listing updated (last seen, times seen).</summary>
    Registered,

    /// <summary>Its MAC is a node's by now: nothing stored.</summary>
    IsNode,

    /// <summary>A new machine past the limit of its network: nothing stored.</summary>
    NetworkLimit,

    /// <summary>A new machine past the limit over all networks: nothing stored.</summary>
    TotalLimit,
}
