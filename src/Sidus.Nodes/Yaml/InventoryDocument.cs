namespace Sidus.Nodes.Yaml;

/// <summary>The declarative inventory of a cluster.yaml: what `sidus apply` makes true and `sidus export` writes.</summary>
public sealed record InventoryDocument
{
    public const int FormatVersion = 1;

    /// <summary>Null when the file has no defaults section (apply then leaves the stored defaults alone, unless pruning).</summary>
    public NodeSettings? Defaults { get; init; }

    public IReadOnlyList<NetworkPolicy> Networks { get; init; } = [];

    public IReadOnlyList<Group> Groups { get; init; } = [];

    public IReadOnlyList<Node> Nodes { get; init; } = [];

    /// <summary>The disk layouts of the `layouts:` map, applied before the groups and nodes that name them.</summary>
    public IReadOnlyList<LayoutDefinition> Layouts { get; init; } = [];

    /// <summary>Where each layout setting was written (cluster.yaml:LINE:COL), by holder as <see cref="ImageLocations"/>.</summary>
    public IReadOnlyDictionary<string, string> LayoutLocations { get; init; } = new Dictionary<string, string>();

    /// <summary>Where each image setting was written (cluster.yaml:LINE:COL), by "defaults", "group:NAME" or "node:NAME": refusals name it.</summary>
    public IReadOnlyDictionary<string, string> ImageLocations { get; init; } = new Dictionary<string, string>();

    public static InventoryDocument FromSnapshot(InventorySnapshot s) => new()
    {
        Defaults = s.Defaults,
        Networks = s.Networks,
        Groups = s.Groups,
        Nodes = s.Nodes,
        Layouts = [.. s.Layouts.Select(l => new LayoutDefinition(l.Name, l.Text, null))],
    };
}

/// <summary>One layout of the `layouts:` map: its name, its text (checked already) and where it was written.</summary>
public sealed record LayoutDefinition(string Name, string Text, string? At);
