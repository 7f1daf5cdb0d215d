using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

/// <summary>How a version is shown, to people and to scripts.</summary>
public static class VersionOutput
{
    public static void Print(VersionResult version, bool json)
    {
        if (json)
        {
            JsonOutput.Write(VersionJson.Result(version));
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
}
