using Sidus.Store.Checkout;

namespace Sidus.Agent.Update;

/// <summary>What <see cref="NodeUpdater"/> is asked to do (the options of `sidus-agent update` and `drift`).</summary>
internal sealed record UpdateOptions
{
    /// <summary>The root to update: "/" on an installed node, any directory for tests and benchmarks.</summary>
    public string Root { get; init; } = "/";

    /// <summary>The server's URL; null: the <c>server =</c> of ROOT's <see cref="InstalledNode.SettingsFile"/>.</summary>
    public string? Server { get; init; }

    /// <summary>The credential's file; null: ROOT's <see cref="InstalledNode.KeyFile"/>.</summary>
    public string? TokenFile { get; init; }

    /// <summary>The node's MAC (its override layer's paths are left alone, and its target version asked for); null:
    /// the <c>mac =</c> of ROOT's <see cref="InstalledNode.SettingsFile"/>, or none for a plain directory.</summary>
    public string? Mac { get; init; }

    /// <summary>A version id; null: the version the server says the node should run (<see cref="NodeRoutes.TargetTemplate"/>).</summary>
    public string? To { get; init; }

    /// <summary>The name (IMAGE@N) of <see cref="To"/> when the caller knows it (the install has it from its plan):
    /// said and recorded with it. Unknown: "?".</summary>
    public string? ToName { get; init; }

    /// <summary>Never cross into another filesystem (a running node's preserved /data). The install turns it off: it
    /// writes into the target's own mounts (a separate /boot).</summary>
    public bool StayOnFilesystem { get; init; } = true;

    public bool DryRun { get; init; }
    public bool NoDelete { get; init; }
    public bool KeepDrift { get; init; }

    /// <summary>Added to <see cref="UpdateExcludes.Defaults"/>.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>Progress lines, for people.</summary>
    public Action<string>? Say { get; init; }

    /// <summary>Every change (a dry run's list), with the path as shown ("/etc/motd").</summary>
    public Action<SyncAction, string>? OnChange { get; init; }

    /// <summary>Every drifted path, as found, before anything changes.</summary>
    public Action<DriftItem>? OnDrift { get; init; }
}
