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

    /// <summary>
    /// The plan for people, as `sidus apply` prints it: "+ node a" (added), "~" (changed) or "-" (removed), each
    /// change's details indented below, then the summary line.
    /// </summary>
    public IEnumerable<string> Describe()
    {
        foreach (var c in Changes)
        {
            var sign = c.Kind switch { ChangeKind.Add => "+", ChangeKind.Change => "~", _ => "-" };
            yield return $"{sign} {c.Entity} {c.Name}";
            foreach (var d in c.Details)
            {
                yield return $"    {d}";
            }
        }

        yield return Summary();
    }

    /// <summary>"applied: 1 to add, 0 to change, 0 to remove", or what a dry run would do, or "nothing to do".</summary>
    public string Summary()
    {
        var counts = $"{Count(ChangeKind.Add)} to add, {Count(ChangeKind.Change)} to change, {Count(ChangeKind.Remove)} to remove";
        return IsEmpty ? "nothing to do: the inventory already matches" : Applied ? $"applied: {counts}" : $"dry run: {counts} (nothing changed)";
    }
}
