using System.Text.Json.Nodes;
using Sidus.Store.Diff;

namespace Sidus.Store.Json;

/// <summary>
/// The JSON shapes of images and versions, defined once: what the image verbs print with --json and what the HTTP
/// API answers (stable snake_case field names for scripts). Built as <see cref="JsonNode"/> trees, which NativeAOT
/// writes without reflection.
/// </summary>
public static class VersionJson
{
    /// <summary>A version: image, number, id, parent, time, message, author and sizes.</summary>
    public static JsonObject Version(ObjectId id, Commit c) => new()
    {
        ["image"] = c.Image,
        ["version"] = c.Sequence,
        ["id"] = id.ToString(),
        ["parent"] = c.Parent?.ToString(),
        ["time"] = c.Time.ToString("O"),
        ["message"] = c.Message,
        ["author"] = c.Author,
        ["files"] = c.Files,
        ["entries"] = c.Entries,
        ["bytes"] = c.LogicalBytes,
        ["root_tree"] = c.Root.Tree.ToString(),
    };

    /// <summary>A version with the TAGS that name it (`image show`, `image log`; `image list` gives every tag of the image).</summary>
    public static JsonObject Version(ObjectId id, Commit c, IEnumerable<string> tags)
    {
        var node = Version(id, c);
        node["tags"] = new JsonArray([.. tags.Select(t => (JsonNode?)JsonValue.Create(t))]);
        return node;
    }

    /// <summary>What `image capture` did: the client's tree, what travelled, and the version or (dry run) the changes.</summary>
    public static JsonObject Capture(Capture.CaptureResult capture) => new()
    {
        ["host"] = capture.Host,
        ["entries"] = capture.Entries,
        ["files"] = capture.Files,
        ["bytes"] = capture.Bytes,
        ["contents_sent"] = capture.ContentsSent,
        ["content_bytes"] = capture.ContentBytes,
        ["wire_bytes"] = capture.WireBytes,
        ["walker_bytes"] = capture.WalkerBytes,
        ["excludes"] = new JsonArray([.. capture.Excludes.Select(e => (JsonNode?)JsonValue.Create(e))]),
        ["result"] = capture.Version is { } v ? Result(v) : null,
        ["changes"] = capture.Changes is { } c ? Changes(c) : null,
    };

    /// <summary>What a write made (build, import, exec, rollback): the version, whether it is new, and the data it added.</summary>
    public static JsonObject Result(VersionResult version)
    {
        var node = Version(version.Id, version.Commit);
        node["created"] = version.Created;
        node["new_bytes"] = version.NewBytes;
        node["pack_bytes"] = version.PackBytes;
        return node;
    }

    /// <summary>One changed path of `image diff`: change, path, type and what differs.</summary>
    public static JsonObject Change(PathChange c) => new()
    {
        ["change"] = c.Kind.ToString().ToLowerInvariant(),
        ["path"] = "/" + LinuxException.Printable(c.Path).TrimStart('/'),
        ["type"] = c.FileKind.ToString().ToLowerInvariant(),
        ["what"] = new JsonArray([.. c.What.Select(w => (JsonNode?)JsonValue.Create(w))]),
    };

    /// <summary>Every changed path of a diff, in order.</summary>
    public static JsonArray Changes(IEnumerable<PathChange> changes) => new([.. changes.Select(c => (JsonNode?)Change(c))]);
}
