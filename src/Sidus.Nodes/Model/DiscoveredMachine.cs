namespace Sidus.Nodes;

/// <summary>A machine that asked to boot without being in the inventory, on a network whose policy is discover.</summary>
public sealed record DiscoveredMachine(
    MacAddress Mac,
    string? Architecture,
    string? Network,
    string? Group,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long TimesSeen);
