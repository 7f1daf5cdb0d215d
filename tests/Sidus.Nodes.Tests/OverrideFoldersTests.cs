using Sidus.Nodes.Overrides;

namespace Sidus.Nodes.Tests;

/// <summary>OverrideFolders.Unmatched on real directories.</summary>
public sealed class OverrideFoldersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-folders-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Unmatched_NamesEachStrayFolder_NothingForAnEmptyOrAbsentRoot()
    {
        var locations = OverrideLocations.Beside(_dir);
        var inventory = new InventorySnapshot(1, [new Node { Name = "web1", Macs = [MacAddress.Parse("02:00:00:00:00:01")] }], [new Group { Name = "gpu" }], NodeSettings.Empty, []);
        Assert.Empty(OverrideFolders.Unmatched(locations, inventory));

        Directory.CreateDirectory(Path.Combine(locations.Root, "groups", "gpu"));
        Directory.CreateDirectory(Path.Combine(locations.Root, "nodes", "web1"));
        Assert.Empty(OverrideFolders.Unmatched(locations, inventory));

        Directory.CreateDirectory(Path.Combine(locations.Root, "nodes", "web2"));
        Directory.CreateDirectory(Path.Combine(locations.Root, "nodes", "database"));
        var warnings = OverrideFolders.Unmatched(locations, inventory);
        Assert.Equal(2, warnings.Count);
        Assert.EndsWith("(add the node or remove the folder)", warnings[0], StringComparison.Ordinal);
        Assert.EndsWith("(did you mean 'web1'?)", warnings[1], StringComparison.Ordinal);
    }
}
