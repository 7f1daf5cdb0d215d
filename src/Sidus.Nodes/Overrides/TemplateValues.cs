namespace Sidus.Nodes.Overrides;

/// <summary>
/// What a template can read: scalar variables (<c>node.name</c>; null when known but not set for this node) and
/// lists of records a <c>{{ for }}</c> can walk (<c>nodes</c>: one record per inventory node, with fields such as
/// <c>name</c> and <c>ip</c>).
/// </summary>
public sealed record TemplateValues(
    IReadOnlyDictionary<string, string?> Scalars,
    IReadOnlyDictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string?>>> Lists)
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string?>>> NoLists =
        new Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string?>>>(StringComparer.Ordinal);

    public static TemplateValues Of(IReadOnlyDictionary<string, string?> scalars) => new(scalars, NoLists);

    /// <summary>Every name a template may use, for error messages: scalars, then lists with "[]".</summary>
    public string KnownNames() =>
        string.Join(", ", Scalars.Keys.Order(StringComparer.Ordinal).Concat(Lists.Keys.Order(StringComparer.Ordinal).Select(l => l + "[]")));
}
