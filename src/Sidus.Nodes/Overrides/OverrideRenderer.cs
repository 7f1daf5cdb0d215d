namespace Sidus.Nodes.Overrides;

/// <summary>
/// Makes a node's override layer: the generated files first, then the global tree, then the node's groups (the
/// last of its groups first, so its first group wins, as for settings), then the node's own tree. A later level
/// replaces an earlier one file by file. The result is sorted by path; parents come before their children.
/// </summary>
public sealed class OverrideRenderer(OverrideLocations locations)
{
    public OverrideLocations Locations { get; } = locations;

    public NodeSecrets Secrets { get; } = new(locations.State);

    public IReadOnlyList<OverrideFile> Render(RenderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var variables = context.TemplateValues();
        var layer = new Dictionary<string, OverrideFile>(StringComparer.Ordinal);
        void Put(IEnumerable<OverrideFile> files)
        {
            foreach (var f in files)
            {
                layer[f.Path] = f;
            }
        }

        Put(BuiltInFiles.For(context, Secrets.Get(context.Node.Name)));
        Put(OverrideTree.Read(Locations.Global, OverrideOrigins.Global, variables));
        for (var i = context.Node.Groups.Length - 1; i >= 0; i--)
        {
            var group = context.Node.Groups[i];
            Put(OverrideTree.Read(Locations.Group(group), OverrideOrigins.Group(group), variables));
        }

        Put(OverrideTree.Read(Locations.Node(context.Node.Name), OverrideOrigins.Node, variables));

        // A file that a later level turned into a directory (or back) would leave children under a non-directory.
        foreach (var path in layer.Keys.ToList())
        {
            var slash = path.LastIndexOf('/');
            while (slash > 0)
            {
                var parent = path[..slash];
                if (layer.TryGetValue(parent, out var p) && p.Kind != OverrideKind.Directory)
                {
                    throw new OverrideException($"'{path}' ({layer[path].Origin}) lies under '{parent}', which {p.Origin} makes a {p.Kind.ToString().ToLowerInvariant()}");
                }

                slash = parent.LastIndexOf('/');
            }
        }

        return [.. layer.Values.OrderBy(f => f.Path, StringComparer.Ordinal)];
    }
}
