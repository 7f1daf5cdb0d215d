using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>One holder of an image setting: a node (its effective image), a group or the defaults.</summary>
public sealed record ImageUser(string Who, string Spec, ObjectId? Version)
{
    public bool IsNode => !Who.Contains(':', StringComparison.Ordinal) && Who != "defaults";

    /// <summary>The image the setting names (NAME of NAME@VER or NAME:TAG).</summary>
    public string Image => Spec.Split('@', ':')[0];
}

/// <summary>
/// What the inventory boots from the store, read before `image rm`, `image prune` and the API's DELETE remove
/// anything: every node's effective image (node, its groups, the defaults) and the image set on each group and on the
/// defaults, each with the version it names today.
/// </summary>
public static class ImageUsers
{
    /// <summary>Most users named in a message; the rest are counted.</summary>
    public const int Named = 6;

    public static IReadOnlyList<ImageUser> Of(InventorySnapshot snapshot, Repository repository)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(repository);
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

    /// <summary>The users of SPEC: of the whole image when it names no version or tag, else of the version it names.</summary>
    public static IReadOnlyList<ImageUser> Of(IReadOnlyList<ImageUser> users, Repository repository, string spec)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var (image, version, tag) = Repository.ParseSpec(spec);
        var whole = version is null && tag is null;
        var target = whole ? (ObjectId?)null : repository.Resolve(spec).Id;
        return [.. users.Where(u => whole ? u.Image == image : u.Version == target)];
    }

    /// <summary>"node node1 (demo@4), group:gpu (demo:prod) and 3 more": who, for a refusal.</summary>
    public static string Describe(IReadOnlyList<ImageUser> users)
    {
        ArgumentNullException.ThrowIfNull(users);
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
