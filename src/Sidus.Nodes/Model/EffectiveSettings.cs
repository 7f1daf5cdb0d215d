namespace Sidus.Nodes;

/// <summary>A resolved value and the level it came from: "node", "group:NAME", "defaults" or "built-in".</summary>
public sealed record Setting<T>(T Value, string Origin);

/// <summary>What a node boots with after node &gt; groups (in order) &gt; defaults &gt; built-in.</summary>
public sealed record EffectiveSettings(
    string Node,
    Setting<string?> Image,
    Setting<BootMode> Mode,
    Setting<string?> KernelArgs,
    ImmutableSortedDictionary<string, Setting<string>> Tags)
{
    /// <summary>
    /// The disk layout a node in mode install is laid out with, by name (null: none set). Its text is
    /// <see cref="InventorySnapshot.Layout"/> of that name.
    /// </summary>
    public Setting<string?> Layout { get; init; } = new(null, SettingsResolver.BuiltInOrigin);

    /// <summary>
    /// The paths `sidus node update` leaves alone besides the built-in ones: every level's, sorted by path, each once
    /// with the strongest level that names it.
    /// </summary>
    public ImmutableArray<Setting<string>> UpdateExcludes { get; init; } = [];
}

/// <summary>Resolves settings by precedence. Pure: the caller passes the levels.</summary>
public static class SettingsResolver
{
    public const string NodeOrigin = "node";
    public const string DefaultsOrigin = "defaults";
    public const string BuiltInOrigin = "built-in";

    /// <summary>Mode when no level sets one: a RAM root, the least surprising for a node that has an image.</summary>
    public const BootMode BuiltInMode = BootMode.Ram;

    public static string GroupOrigin(string group) => "group:" + group;

    /// <summary>
    /// Resolves <paramref name="node"/>'s settings. Groups the node names but <paramref name="findGroup"/> does not
    /// know are skipped (the store refuses such references; a snapshot taken mid-edit cannot have them).
    /// </summary>
    public static EffectiveSettings Resolve(Node node, Func<string, Group?> findGroup, NodeSettings defaults)
    {
        var levels = new List<(string Origin, NodeSettings Settings)> { (NodeOrigin, node.Settings) };
        foreach (var name in node.Groups)
        {
            if (findGroup(name) is { } group)
            {
                levels.Add((GroupOrigin(group.Name), group.Settings));
            }
        }

        levels.Add((DefaultsOrigin, defaults));

        var image = new Setting<string?>(null, BuiltInOrigin);
        var mode = new Setting<BootMode>(BuiltInMode, BuiltInOrigin);
        var args = new Setting<string?>(null, BuiltInOrigin);
        var layout = new Setting<string?>(null, BuiltInOrigin);
        var tags = ImmutableSortedDictionary.CreateBuilder<string, Setting<string>>(StringComparer.Ordinal);
        var excludes = new SortedDictionary<string, string>(StringComparer.Ordinal);

        // Walk from the weakest level up so a stronger level simply overwrites.
        for (var i = levels.Count - 1; i >= 0; i--)
        {
            var (origin, s) = levels[i];
            if (s.Image is not null)
            {
                image = new(s.Image, origin);
            }

            if (s.Mode is { } m)
            {
                mode = new(m, origin);
            }

            if (s.KernelArgs is not null)
            {
                args = new(s.KernelArgs, origin);
            }

            if (s.Layout is not null)
            {
                layout = new(s.Layout, origin);
            }

            foreach (var (key, value) in s.Tags)
            {
                tags[key] = new(value, origin);
            }

            foreach (var path in s.UpdateExcludes.IsDefault ? [] : s.UpdateExcludes)
            {
                excludes[path] = origin;
            }
        }

        return new EffectiveSettings(node.Name, image, mode, args, tags.ToImmutable())
        {
            Layout = layout,
            UpdateExcludes = [.. excludes.Select(e => new Setting<string>(e.Key, e.Value))],
        };
    }
}
