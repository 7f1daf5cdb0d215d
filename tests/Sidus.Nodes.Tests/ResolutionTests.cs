using System.Collections.Immutable;
using Sidus.Wire.Contracts;

namespace Sidus.Nodes.Tests;

public class ResolutionTests
{
    private static Group G(string name, string? image = null, BootMode? mode = null, string? args = null, params (string K, string V)[] tags) => new()
    {
        Name = name,
        Settings = new NodeSettings
        {
            Image = image,
            Mode = mode,
            KernelArgs = args,
            Tags = tags.ToImmutableSortedDictionary(t => t.K, t => t.V, StringComparer.Ordinal),
        },
    };

    [Fact]
    public void Resolve_NodeBeatsGroupsInOrderBeatDefaults()
    {
        var groups = new[]
        {
            G("gpu", image: "cuda@2", tags: [("rack", "gpu-rack")]),
            G("compute", image: "debian@1", mode: BootMode.Shared, args: "quiet", tags: [("rack", "r1"), ("site", "lyon")]),
        }.ToDictionary(g => g.Name);
        var defaults = new NodeSettings
        {
            Image = "base",
            Mode = BootMode.Install,
            KernelArgs = "console=ttyS0",
            Tags = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("site", "paris"), new("owner", "ops")]),
        };
        var node = new Node
        {
            Name = "n1",
            Macs = [MacAddress.Parse("02:00:00:00:00:01")],
            Groups = ["gpu", "compute"],
            Settings = new NodeSettings { KernelArgs = "debug" },
        };

        var e = SettingsResolver.Resolve(node, groups.GetValueOrDefault, defaults);

        Assert.Equal(new Setting<string?>("cuda@2", "group:gpu"), e.Image);
        Assert.Equal(new Setting<BootMode>(BootMode.Shared, "group:compute"), e.Mode);
        Assert.Equal(new Setting<string?>("debug", "node"), e.KernelArgs);
        Assert.Equal(new Setting<string>("gpu-rack", "group:gpu"), e.Tags["rack"]);
        Assert.Equal(new Setting<string>("lyon", "group:compute"), e.Tags["site"]);
        Assert.Equal(new Setting<string>("ops", "defaults"), e.Tags["owner"]);
    }

    [Fact]
    public void Resolve_NothingSet_BuiltInRam()
    {
        var node = new Node { Name = "n1", Macs = [MacAddress.Parse("02:00:00:00:00:01")] };
        var e = SettingsResolver.Resolve(node, _ => null, NodeSettings.Empty);
        Assert.Equal(new Setting<BootMode>(BootMode.Ram, "built-in"), e.Mode);
        Assert.Null(e.Image.Value);
        Assert.Equal("built-in", e.Image.Origin);
        Assert.Empty(e.Tags);
    }

    [Fact]
    public void Resolve_GroupOrderSwapped_OtherGroupWins()
    {
        var groups = new[] { G("a", image: "img-a"), G("b", image: "img-b") }.ToDictionary(g => g.Name);
        var node = new Node { Name = "n1", Macs = [MacAddress.Parse("02:00:00:00:00:01")], Groups = ["b", "a"] };
        Assert.Equal("img-b", SettingsResolver.Resolve(node, groups.GetValueOrDefault, NodeSettings.Empty).Image.Value);
    }
}
