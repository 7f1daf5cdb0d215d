using Sidus.Store.Objects;
using Sidus.Cli.Commands.Inventory;
using Sidus.Nodes.Storage;

namespace Sidus.Cli.Commands.Image;

/// <summary>One holder of an image setting: a node (its effective image), a group or the defaults.</summary>
public sealed record ImageUser(string Who, string Spec, ObjectId? Version)
{
    public bool IsNode => !Who.Contains(':', StringComparison.Ordinal) && Who != "defaults";

    /// <summary>The image the setting names (NAME of NAME@VER or NAME:TAG).</summary>
    public string Image => Spec.Split('@', ':')[0];
}

/// <summary>
/// What the inventory boots from the store, read before `image rm` and `image prune` remove anything: every node's
/// effective image (node, its groups, the defaults) and the image set on each group and on the defaults, each with the
/// version it names today.
/// </summary>
public static class ImageUsers
{
    /// <summary>Most users named in a message; the rest are counted.</summary>
    public const int Named = 6;

    public static async Task<IReadOnlyList<ImageUser>> ReadAsync(ParseResult r, Option<string?> db, Repository repository, CancellationToken ct)
    {
        var location = InventoryCli.Location(r, db);
        if (!InventoryStore.IsPostgres(location) && !File.Exists(location))
        {
            return [];
        }

        await using var inventory = await InventoryStore.OpenAsync(location, ct: ct);
        var snapshot = await inventory.LoadAsync(ct);
        var users = new List<ImageUser>();
        void Add(string who, string? spec)
        {
            if (spec is not null)
            {
                users.Add(new ImageUser(who, spec, VersionOf(repository, spec)));
            }
        }

        foreach (var node in snapshot.Nodes)
        {
            Add(node.Name, snapshot.Resolve(node).Image.Value);
        }

        foreach (var group in snapshot.Groups)
        {
            Add("group:" + group.Name, group.Settings.Image);
        }

        Add("defaults", snapshot.Defaults.Image);
        return users;
    }

    /// <summary>"node1, node2 (node), group:gpu and 3 more": who, for a refusal.</summary>
    public static string Describe(IReadOnlyList<ImageUser> users)
    {
        var named = users.Take(Named).Select(u => u.IsNode ? $"node {u.Who} ({u.Spec})" : $"{u.Who} ({u.Spec})");
        return string.Join(", ", named) + (users.Count > Named ? $" and {users.Count - Named} more" : string.Empty);
    }

    private static ObjectId? VersionOf(Repository repository, string spec)
    {
        try
        {
            return repository.Resolve(spec).Id;
        }
        catch (StoreException e) when (e.Kind is StoreErrorKind.NotFound or StoreErrorKind.Usage)
        {
            return null;
        }
    }
}
