namespace Sidus.Nodes.Overrides;

/// <summary>
/// Finds override folders whose files reach no node: <c>groups/NAME</c> or <c>nodes/NAME</c> with no such group or
/// node (a typo, or one removed since), and anything beside global/, groups/ and nodes/. Each is a warning, not an
/// error: a folder kept for a node not added yet is legitimate, but it should never be silent.
/// </summary>
public static class OverrideFolders
{
    /// <summary>One warning per folder, in path order, naming the nearest existing name when there is one.</summary>
    public static IReadOnlyList<string> Unmatched(OverrideLocations locations, InventorySnapshot inventory)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(inventory);
        var warnings = new List<string>();
        if (!Directory.Exists(locations.Root))
        {
            return warnings;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(locations.Root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(entry);
            if (name is not (OverrideLocations.GlobalFolder or OverrideLocations.GroupsFolder or OverrideLocations.NodesFolder))
            {
                warnings.Add($"{entry}: not one of {OverrideLocations.GlobalFolder}/, {OverrideLocations.GroupsFolder}/NAME/, {OverrideLocations.NodesFolder}/NAME/, so no node gets it");
            }
        }

        Check(Path.Combine(locations.Root, OverrideLocations.GroupsFolder), "group", [.. inventory.Groups.Select(g => g.Name)], warnings);
        Check(Path.Combine(locations.Root, OverrideLocations.NodesFolder), "node", [.. inventory.Nodes.Select(n => n.Name)], warnings);
        return warnings;
    }

    private static void Check(string folder, string kind, HashSet<string> names, List<string> warnings)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(entry);
            if (names.Contains(name))
            {
                continue;
            }

            var nearest = names.Select(n => (n, d: Sidus.Linux.Typos.Distance(name, n))).Where(x => x.d <= 2).OrderBy(x => x.d).ThenBy(x => x.n, StringComparer.Ordinal).Select(x => x.n).FirstOrDefault();
            var hint = nearest is null ? $"add the {kind} or remove the folder" : $"did you mean '{nearest}'?";
            warnings.Add($"{entry}: there is no {kind} '{name}', so no node gets these files ({hint})");
        }
    }
}
