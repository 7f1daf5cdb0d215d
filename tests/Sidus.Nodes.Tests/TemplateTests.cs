using System.Collections.Immutable;
using System.Net;
using System.Text;
using Sidus.Nodes.Overrides;

namespace Sidus.Nodes.Tests;

/// <summary>Conditions and loops in override templates, and the strictness they keep.</summary>
public sealed class TemplateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-templates-").FullName;

    private OverrideLocations Locations => OverrideLocations.Beside(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static InventorySnapshot Inventory(params Node[] nodes) => new(
        1, nodes, [new Group { Name = "compute" }, new Group { Name = "gpu", Settings = new NodeSettings { Tags = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("cuda", "12")]) } }],
        NodeSettings.Empty, []);

    private static Node N(string name, string? ip, params string[] groups) => new()
    {
        Name = name,
        Macs = [MacAddress.Parse($"02:00:00:00:{name.Length:x2}:{(int)name[^1]:x2}"), MacAddress.Parse($"02:00:00:01:{name.Length:x2}:{(int)name[^1]:x2}")],
        Ip = ip is null ? null : IPAddress.Parse(ip),
        Groups = [.. groups],
    };

    private string Render(string template, string node = "n1")
    {
        var path = Path.Combine(Locations.Global, "etc/out.tmpl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, template);
        var inv = Inventory(N("n1", "10.0.0.1", "gpu", "compute"), N("n2", null, "compute"), N("n3", "10.0.0.3"));
        var layer = new OverrideRenderer(Locations).Render(new RenderContext(inv, inv.FindNode(node)!, new ImageInfo("base@3", "abc"), SiteInfo.Unknown));
        return Encoding.UTF8.GetString(layer.Single(f => f.Path == "etc/out").Content);
    }

    private OverrideException Fails(string template) => Assert.Throws<OverrideException>(() => Render(template));

    [Fact]
    public void If_TakesTheFirstTrueBranch_ControlLinesLeaveNoBlankLines()
    {
        const string t = "a\n{{ if tag.cuda }}\ncuda {{ tag.cuda }}\n{{ else }}\nno cuda\n{{ end }}\nz\n";
        Assert.Equal("a\ncuda 12\nz\n", Render(t, "n1"));
        Assert.Equal("a\nno cuda\nz\n", Render(t.Replace("tag.cuda", "node.ip", StringComparison.Ordinal), "n2"));
    }

    [Theory]
    [InlineData("n1", "gpu")]
    [InlineData("n2", "compute")]
    [InlineData("n3", "other")]
    public void ElseIf_Comparisons_AndOr_Not(string node, string expected)
    {
        const string t = "{{ if node.groups == \"gpu compute\" and not node.ip == \"\" }}gpu" +
            "{{ else if node.groups != \"\" or node.name == \"never\" }}compute{{ else }}other{{ end }}";
        Assert.Equal(expected, Render(t, node));
    }

    [Fact]
    public void For_OverNodes_AndOverWordsOfAVariable_Nested()
    {
        const string t = "{{ for n in nodes }}\n{{ n.name }} {{ n.ip | default \"dhcp\" }}{{ for m in n.macs }} {{ m }}{{ end }}\n{{ end }}\n";
        Assert.Equal(
            "n1 10.0.0.1 02:00:00:00:02:31 02:00:00:01:02:31\n" +
            "n2 dhcp 02:00:00:00:02:32 02:00:00:01:02:32\n" +
            "n3 10.0.0.3 02:00:00:00:02:33 02:00:00:01:02:33\n", Render(t));
        Assert.Equal("[gpu][compute]", Render("{{ for g in node.groups }}{{ if g != \"x\" }}[{{ g }}]{{ end }}{{ end }}", "n1"));
    }

    [Fact]
    public void For_OnlyNodesWithAnAddress()
    {
        Assert.Equal("10.0.0.1 n1\n10.0.0.3 n3\n", Render("{{ for n in nodes }}\n{{ if n.ip }}\n{{ n.ip }} {{ n.name }}\n{{ end }}\n{{ end }}\n"));
    }

    [Theory]
    [InlineData("x\n{{ if node.nmae }}a{{ end }}", "unknown variable 'node.nmae'")] // a typo in a condition is not "false"
    [InlineData("x\n{{ if node.ip }}a{{ else if tag.cdua }}b{{ end }}", "unknown variable 'tag.cdua'")] // also in a branch not taken
    [InlineData("x\n{{ for n in nodes }}{{ n.nmae }}{{ end }}", "'n' has no field 'nmae'")]
    [InlineData("x\n{{ for n in nodez }}{{ end }}", "unknown variable 'nodez'")]
    [InlineData("x\n{{ if node.ip }}a", "'{{ if }}' is not closed by '{{ end }}'")]
    [InlineData("x\n{{ end }}", "without an open")]
    [InlineData("x\n{{ if node.ip }}a{{ else }}b{{ else }}c{{ end }}", "'{{ else }}' after '{{ else }}'")]
    [InlineData("x\n{{ if }}a{{ end }}", "needs a condition")]
    [InlineData("x\n{{ if node.ip = \"1\" }}a{{ end }}", "is not a condition")]
    [InlineData("x\n{{ if node.ip and }}a{{ end }}", "'and' needs a condition on each side")]
    [InlineData("x\n{{ for n nodes }}{{ end }}", "write '{{ for NAME in LIST }}'")]
    [InlineData("x\n{{ for node in nodes }}{{ end }}", "cannot name a loop item")]
    [InlineData("x\n{{ for n in nodes }}{{ for n in nodes }}{{ end }}{{ end }}", "already names an outer loop's item")]
    [InlineData("x\n{{ for n in nodes }}{{ n }}{{ end }}", "is a record")]
    [InlineData("x\n{{ for n in nodes }}{{ else }}{{ end }}", "inside '{{ for }}'")]
    [InlineData("x\n{{ if node.ip }}{{ end x }}", "'end' takes nothing after it")]
    public void Mistakes_FailWithFileAndLine(string template, string expected)
    {
        var e = Fails(template);
        Assert.Contains("out.tmpl:2: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RunawayLoops_Refused()
    {
        var e = Fails("{{ for a in nodes }}{{ for b in nodes }}{{ for c in nodes }}" + new string('x', 400_000) + "{{ end }}{{ end }}{{ end }}");
        Assert.Contains("renders to more than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OldSyntax_StillRendersTheSame()
    {
        Assert.Equal("n1 10.0.0.1 {{ dhcp\n", Render("{{ node.name }} {{node.ip}} {{ \"{{\" }} {{ tag.none-here | default \"dhcp\" }}\n".Replace("tag.none-here", "node.domain", StringComparison.Ordinal)));
    }
}
