namespace Sidus.Nodes.Overrides;

/// <summary>
/// Where the override trees and the per-node generated state live. Trees: <c>ROOT/global</c>,
/// <c>ROOT/groups/NAME</c>, <c>ROOT/nodes/NAME</c>. State (machine-id, SSH host keys): <c>STATE/NAME/</c>, mode 0700.
/// </summary>
public sealed record OverrideLocations(string Root, string State)
{
    public const string GlobalFolder = "global";
    public const string GroupsFolder = "groups";
    public const string NodesFolder = "nodes";

    /// <summary>The defaults beside the inventory: &lt;dir&gt;/overrides and &lt;dir&gt;/node-state.</summary>
    public static OverrideLocations Beside(string directory) =>
        new(System.IO.Path.Combine(directory, "overrides"), System.IO.Path.Combine(directory, "node-state"));

    public string Global => System.IO.Path.Combine(Root, GlobalFolder);

    public string Group(string name) => System.IO.Path.Combine(Root, GroupsFolder, name);

    public string Node(string name) => System.IO.Path.Combine(Root, NodesFolder, name);
}
