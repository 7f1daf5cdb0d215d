namespace Sidus.Nodes;

/// <summary>
/// The settings a node, a group or the defaults can carry. A null member means "not set here": the next level
/// (node, then its groups in order, then the defaults) decides. Tags merge key by key; update excludes add up.
/// </summary>
public sealed record NodeSettings
{
    public static readonly NodeSettings Empty = new();

    public string? Image { get; init; }

    public BootMode? Mode { get; init; }

    public string? KernelArgs { get; init; }

    /// <summary>The name of a disk layout stored in the inventory (docs/layouts.md), for mode install.</summary>
    public string? Layout { get; init; }

    public ImmutableSortedDictionary<string, string> Tags { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>
    /// Paths `sidus node update` leaves alone on an installed node, besides the built-in ones (docs/installed-nodes.md):
    /// the union of the node's, its groups' and the defaults' (none is "unset"). Sorted, each once.
    /// </summary>
    public ImmutableArray<string> UpdateExcludes { get; init; } = [];

    /// <summary>Checks every member and returns the normalised copy; throws <see cref="InventoryException"/>.</summary>
    public NodeSettings Validated()
    {
        var tags = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Tags)
        {
            var k = Names.TagKey(key);
            tags[k] = Names.TagValue(k, value);
        }

        return this with
        {
            Image = Image is null ? null : Names.ImageRef(Image),
            KernelArgs = KernelArgs is null ? null : Names.KernelArgs(KernelArgs),
            Layout = Layout is null ? null : Names.Label(Layout, "layout"),
            Tags = tags.ToImmutable(),
            UpdateExcludes = [.. NoDefault(UpdateExcludes).Select(Names.UpdateExclude).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
        };
    }

    public bool Equals(NodeSettings? other) =>
        other is not null && Image == other.Image && Mode == other.Mode && KernelArgs == other.KernelArgs && Layout == other.Layout
        && Tags.Count == other.Tags.Count
        && Tags.All(t => other.Tags.TryGetValue(t.Key, out var v) && v == t.Value)
        && NoDefault(UpdateExcludes).SequenceEqual(NoDefault(other.UpdateExcludes), StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Image, Mode, KernelArgs, Layout, Tags.Count, NoDefault(UpdateExcludes).Length);

    private static ImmutableArray<string> NoDefault(ImmutableArray<string> list) => list.IsDefault ? [] : list;
}
