namespace Sidus.Nodes.Layouts;

/// <summary>
/// Who uses a stored layout: every node whose effective layout it is (its own setting, a group's or the defaults'),
/// and each group and the defaults that set it. `layout rm` refuses while there are any, `layout list` counts them.
/// </summary>
public static class LayoutUsers
{
    /// <summary>Most users named in a message; the rest are counted.</summary>
    public const int Named = 6;

    /// <summary>"node NAME", "group:NAME" and "defaults", nodes first, each in name order.</summary>
    public static IReadOnlyList<string> Of(InventorySnapshot snapshot, string layout)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var users = new List<string>();
        users.AddRange(snapshot.Nodes.Where(n => snapshot.Resolve(n).Layout.Value == layout).Select(n => "node " + n.Name));
        users.AddRange(snapshot.Groups.Where(g => g.Settings.Layout == layout).Select(g => SettingsResolver.GroupOrigin(g.Name)));
        if (snapshot.Defaults.Layout == layout)
        {
            users.Add(SettingsResolver.DefaultsOrigin);
        }

        return users;
    }

    /// <summary>"node a, group:gpu and 3 more": who, for a refusal.</summary>
    public static string Describe(IReadOnlyList<string> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        return string.Join(", ", users.Take(Named)) + (users.Count > Named ? $" and {users.Count - Named} more" : string.Empty);
    }
}
