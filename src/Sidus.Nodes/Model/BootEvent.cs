namespace Sidus.Nodes;

/// <summary>A step of a network boot. The text forms are stored: never rename them.</summary>
public enum BootStage
{
    Dhcp = 1,
    Tftp = 2,
    Script = 3,
    Kernel = 4,
    Agent = 5,
    Root = 6,
    Up = 7,
    Error = 8,
}

public static class BootStages
{
    public const int MaxDetailLength = 2048;

    public static string ToText(this BootStage stage) => stage switch
    {
        BootStage.Dhcp => "dhcp",
        BootStage.Tftp => "tftp",
        BootStage.Script => "script",
        BootStage.Kernel => "kernel",
        BootStage.Agent => "agent",
        BootStage.Root => "root",
        BootStage.Up => "up",
        BootStage.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "unknown boot stage"),
    };

    public static BootStage Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "dhcp" => BootStage.Dhcp,
        "tftp" => BootStage.Tftp,
        "script" => BootStage.Script,
        "kernel" => BootStage.Kernel,
        "agent" => BootStage.Agent,
        "root" => BootStage.Root,
        "up" => BootStage.Up,
        "error" => BootStage.Error,
        _ => Throw.Invalid<BootStage>($"'{text}' is not a boot stage: use dhcp, tftp, script, kernel, agent, root, up or error"),
    };
}

/// <summary>
/// One reported step; <see cref="Node"/> may be null (unknown machine), the store fills it from the MAC.
/// <see cref="Image"/> and <see cref="Up"/> are what the node agent's <see cref="NodeEvent"/> carried.
/// </summary>
public sealed record BootEvent(MacAddress Mac, BootStage Stage, DateTimeOffset At, string? Detail = null, string? Node = null)
{
    /// <summary>The version id the event names (the agent's override layer), or null.</summary>
    public string? Image { get; init; }

    /// <summary>The booted system's report (the "up" stage), or null.</summary>
    public UpReport? Up { get; init; }
}

/// <summary>When a stage of the latest boot was reached, and how long after that boot began.</summary>
public sealed record StageTiming(BootStage Stage, DateTimeOffset At, TimeSpan SinceStart, string? Detail)
{
    /// <inheritdoc cref="BootEvent.Image"/>
    public string? Image { get; init; }

    /// <inheritdoc cref="BootEvent.Up"/>
    public UpReport? Up { get; init; }
}

/// <summary>The latest boot of one machine: its stages in order, the last one first in <see cref="Latest"/>.</summary>
public sealed record NodeBootStatus(string? Node, MacAddress Mac, StageTiming Latest, IReadOnlyList<StageTiming> Stages)
{
    public DateTimeOffset Started => Stages[0].At;

    /// <summary>The image version the boot reported last (the agent's override layer or the "up" report), or null.</summary>
    public string? Image => Stages.Reverse().Select(s => s.Image ?? s.Up?.Image).FirstOrDefault(i => i is not null);

    /// <summary>The report of the boot's last "up" stage, or null before "up".</summary>
    public UpReport? Up => Stages.LastOrDefault(s => s.Stage == BootStage.Up)?.Up;
}

/// <summary>
/// The latest `sidus node apply-overrides` of a node: when it was asked, and when the node's agent answered it with
/// what result line (both null while it has not).
/// </summary>
public sealed record OverridesRequestRecord(DateTimeOffset RequestedAt, DateTimeOffset? AppliedAt, string? Result);

/// <summary>A node's credential record: when they were last revoked, and its latest alarm (a boot ticket claimed twice).</summary>
public sealed record NodeAccessRecord(string Node, DateTimeOffset? RevokedAt, DateTimeOffset? AlarmAt, string? Alarm, long Alarms);
