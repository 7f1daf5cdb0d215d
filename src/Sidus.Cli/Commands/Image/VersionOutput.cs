using Sidus.Store.Objects;
using Sidus.Store.Trees;

namespace Sidus.Cli.Commands.Image;

/// <summary>How a version is shown, to people and to scripts.</summary>
public static class VersionOutput
{
    public static void Print(VersionResult version, bool json)
    {
        if (json)
        {
            var node = ToJson(version.Id, version.Commit);
            node["created"] = version.Created;
            node["new_bytes"] = version.NewBytes;
            node["pack_bytes"] = version.PackBytes;
            JsonOutput.Write(node);
            return;
        }

        var c = version.Commit;
        if (!version.Created)
        {
            Console.WriteLine($"{c.Image}@{c.Sequence} unchanged: the tree is identical to the newest version, no new version made");
            return;
        }

        Console.WriteLine($"{c.Image}@{c.Sequence} {version.Id.Short}  {c.Files} files, {Units.Bytes(c.LogicalBytes)}; " +
                          $"new data {Units.Bytes(version.NewBytes)}, stored as {Units.Bytes(version.PackBytes)}");
    }

    public static JsonObject ToJson(ObjectId id, Commit c) => new()
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
}
