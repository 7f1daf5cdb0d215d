namespace Sidus.Nodes;

/// <summary>
/// How many boot events the inventory keeps, so a flood of reports cannot grow it without end: the newest
/// <see cref="PerMachine"/> of each machine (kept on every insert), the newest <see cref="Total"/> in all and none
/// older than <see cref="MaxAge"/> (both kept by <see cref="Storage.InventoryStore.TrimBootEventsAsync"/>, which the
/// server runs as it stores events and on a timer).
/// </summary>
public sealed record BootEventLimits
{
    public static BootEventLimits Default { get; } = new();

    /// <summary>A boot reports about ten stages: this keeps a node's last few boots.</summary>
    public int PerMachine { get; init; } = 100;

    /// <summary>A thousand nodes at the full per-machine count; a few tens of MB of SQLite at most.</summary>
    public int Total { get; init; } = 100_000;

    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(30);
}
