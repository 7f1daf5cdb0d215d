namespace Sidus.Nodes.Yaml;

public enum ChangeKind
{
    Add = 1,
    Change = 2,
    Remove = 3,
}

/// <summary>One thing `apply` will do: add, change or remove an entity ("node", "group", "network", "defaults").</summary>
public sealed record PlannedChange(ChangeKind Kind, string Entity, string Name, IReadOnlyList<string> Details);

/// <summary>The difference between the stored inventory and a document, in the order it is carried out.</summary>
public sealed record ApplyPlan(IReadOnlyList<PlannedChange> Changes, bool Applied)
{
    public bool IsEmpty => Changes.Count == 0;

    public int Count(ChangeKind kind) => Changes.Count(c => c.Kind == kind);
}
