using System.Text.Json;

namespace Sidus.Wire.Contracts;

/// <summary>
/// One boot event the node agent posts to the server (<see cref="NodeRoutes.Events"/>, JSON through
/// <see cref="ContractsJson"/>): the stage reached (<see cref="NodeEventStages"/>), a line for people, and the
/// structured facts the server keeps: the version id the event is about and, for "up", the <see cref="UpReport"/>.
/// </summary>
public sealed record NodeEvent(string? Stage, string? Detail)
{
    /// <summary>The version id the agent laid out (the overrides event), else null.</summary>
    public string? Image { get; init; }

    /// <summary>The booted system's report, on the "up" event.</summary>
    public UpReport? Up { get; init; }

    /// <summary>The event as JSON, null members left out.</summary>
    public string ToJson() => ContractsJson.Write(json => ContractsJson.WriteEvent(json, this));

    /// <summary>Reads an event; malformed JSON or a JSON value that is not an object throws <see cref="JsonException"/>.</summary>
    public static NodeEvent FromJson(ReadOnlySpan<byte> json) =>
        ContractsJson.Read(json, "event", ContractsJson.ReadEvent);
}

/// <summary>The stages the node agent reports, as spelt on the wire.</summary>
public static class NodeEventStages
{
    /// <summary>The agent's own steps: drivers, lease, switching root.</summary>
    public const string Agent = "agent";

    /// <summary>Fetching and laying out the root, the override layer.</summary>
    public const string Root = "root";

    /// <summary>What went wrong; the agent keeps retrying.</summary>
    public const string Failed = "failed";

    /// <summary>The booted system is up (with its <see cref="UpReport"/>).</summary>
    public const string Up = "up";
}
