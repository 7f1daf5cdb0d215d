using System.Collections.Immutable;
using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Text;
using Sidus.Nodes.Overrides;

namespace Sidus.Nodes.Tests;

/// <summary>The override layer: precedence of the levels, templates, modes, generated identity kept across renders.</summary>
public sealed class OverrideTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidus-overrides-").FullName;

    private OverrideLocations Locations => OverrideLocations.Beside(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static InventorySnapshot Inventory(params Node[] nodes) => new(
        1, nodes, [new Group { Name = "compute" }, new Group { Name = "gpu", Settings = new NodeSettings { Tags = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("nfs", "10.0.0.9")]) } }],
        NodeSettings.Empty, []);

    private static Node N(string name, string? ip = null, params string[] groups) => new()
    {
        Name = name,
        Macs = [MacAddress.Parse($"02:00:00:00:{name.Length:x2}:{(int)name[^1]:x2}")],
        Ip = ip is null ? null : IPAddress.Parse(ip),
        Groups = [.. groups],
    };

    private void Put(string relative, string text)
    {
        var path = Path.Combine(Locations.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private IReadOnlyList<OverrideFile> Render(InventorySnapshot inv, string node, SiteInfo? site = null) =>
        new OverrideRenderer(Locations).Render(new RenderContext(inv, inv.FindNode(node)!, new ImageInfo("base@3", "abc123"), site ?? SiteInfo.Unknown));

    private static string Text(IReadOnlyList<OverrideFile> layer, string path) => Encoding.UTF8.GetString(layer.Single(f => f.Path == path).Content);

    [Fact]
    public void Render_SamePathAtEveryLevel_NodeBeatsFirstGroupBeatsLaterGroupBeatsGlobal()
    {
        var inv = Inventory(N("n1", null, "gpu", "compute"), N("n2", null, "compute"));
        Put("global/etc/motd", "global\n");
        Put("global/etc/issue", "global issue\n");
        Put("groups/compute/etc/motd", "compute\n");
        Put("groups/compute/etc/issue", "compute issue\n");
        Put("groups/gpu/etc/motd", "gpu\n");
        Put("nodes/n1/etc/motd", "n1\n");
        Put("global/etc/hostname", "overridden\n");

        var n1 = Render(inv, "n1");
        var n2 = Render(inv, "n2");

        Assert.Equal("n1\n", Text(n1, "etc/motd"));
        Assert.Equal("node", n1.Single(f => f.Path == "etc/motd").Origin);
        Assert.Equal("compute issue\n", Text(n1, "etc/issue"));
        Assert.Equal("group:compute", n1.Single(f => f.Path == "etc/issue").Origin);
        Assert.Equal("compute\n", Text(n2, "etc/motd"));
        Assert.Equal("overridden\n", Text(n2, "etc/hostname"));
        Assert.Equal("global", n2.Single(f => f.Path == "etc/hostname").Origin);
        Assert.Equal("generated", n2.Single(f => f.Path == "etc/machine-id").Origin);
    }

    [Fact]
    public void Render_GroupOrder_FirstGroupWins()
    {
        var inv = Inventory(N("n1", null, "gpu", "compute"));
        Put("groups/compute/etc/motd", "compute\n");
        Put("groups/gpu/etc/motd", "gpu\n");
        Assert.Equal("gpu\n", Text(Render(inv, "n1"), "etc/motd"));
    }

    [Fact]
    public void Render_Template_VariablesFilledAndSuffixDropped()
    {
        var inv = Inventory(N("n1", "10.0.0.21", "gpu"));
        Put("global/etc/fstab.tmpl", "{{ tag.nfs }}:/home /home nfs defaults 0 0\n# {{node.fqdn}} {{ node.ip }} {{ image.version }} {{ server.ip }} {{ node.mac }} {{ \"{{\" }}\n");
        var layer = Render(inv, "n1", new SiteInfo("10.0.0.1:8080", "cluster.lan", []));
        Assert.Equal("10.0.0.9:/home /home nfs defaults 0 0\n# n1.cluster.lan 10.0.0.21 abc123 10.0.0.1 02:00:00:00:02:31 {{\n", Text(layer, "etc/fstab"));
        Assert.DoesNotContain(layer, f => f.Path.EndsWith(".tmpl", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_UnknownVariable_ErrorNamesFileAndLine()
    {
        var inv = Inventory(N("n1"));
        Put("global/etc/motd.tmpl", "hello\nthis is {{ node.nmae }}\n");
        var e = Assert.Throws<OverrideException>(() => Render(inv, "n1"));
        Assert.Contains(Path.Combine(Locations.Global, "etc/motd.tmpl") + ":2", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown variable 'node.nmae'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_UnsetVariableWithoutDefault_ErrorElseDefault()
    {
        var inv = Inventory(N("n1"));
        Put("global/etc/a.tmpl", "ip {{ node.ip }}\n");
        var e = Assert.Throws<OverrideException>(() => Render(inv, "n1"));
        Assert.Contains("a.tmpl:1: variable 'node.ip' has no value", e.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(Locations.Global, "etc/a.tmpl"), "ip {{ node.ip | default \"dhcp\" }}\n");
        Assert.Equal("ip dhcp\n", Text(Render(inv, "n1"), "etc/a"));
    }

    [Theory]
    [InlineData("{{ node.name ")]
    [InlineData("{{ }}")]
    [InlineData("{{ node.name | upper }}")]
    public void TemplateEngine_Malformed_ErrorWithLine(string text)
    {
        var e = Assert.Throws<OverrideException>(() => TemplateEngine.Render("ok\n" + text, new Dictionary<string, string?> { ["node.name"] = "x" }, "f"));
        Assert.StartsWith("f:2: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ModesFromFileThenMeta_KeptInArchive()
    {
        var inv = Inventory(N("n1"));
        Put("global/etc/secret.conf", "s\n");
        Put("global/usr/local/bin/tool", "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(Locations.Global, "usr/local/bin/tool"), (UnixFileMode)0x1ED); // 0755
        Put("global/.sidus-meta", "# path mode uid gid\netc/secret.conf 0640 0 42\n");
        File.CreateSymbolicLink(Path.Combine(Locations.Global, "etc/link"), "/etc/secret.conf");

        var layer = Render(inv, "n1");
        var secret = layer.Single(f => f.Path == "etc/secret.conf");
        Assert.Equal(0x1A0u, secret.Mode);
        Assert.Equal(42u, secret.Gid);
        Assert.Equal(0x1EDu, layer.Single(f => f.Path == "usr/local/bin/tool").Mode);
        Assert.Equal("/etc/secret.conf", layer.Single(f => f.Path == "etc/link").LinkTarget);
        Assert.DoesNotContain(layer, f => f.Path == ".sidus-meta");

        using var reader = new TarReader(new MemoryStream(OverrideArchive.ToBytes(layer)));
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            entries[entry.Name] = entry;
        }

        Assert.Equal((UnixFileMode)0x1A0, entries["etc/secret.conf"].Mode);
        Assert.Equal(42, entries["etc/secret.conf"].Gid);
        Assert.Equal(TarEntryType.SymbolicLink, entries["etc/link"].EntryType);
        Assert.Equal((UnixFileMode)0x180, entries["etc/ssh/ssh_host_ed25519_key"].Mode);
        Assert.Equal("n1\n", new StreamReader(entries["etc/hostname"].DataStream!).ReadToEnd());
        Assert.Equal("../sidus-up.service", entries[BuiltInFiles.UpUnitLink].LinkName);
    }

    [Fact]
    public void Render_MetaNamingNoFile_Error()
    {
        var inv = Inventory(N("n1"));
        Put("global/etc/a", "a");
        Put("global/.sidus-meta", "etc/b 0600\n");
        var e = Assert.Throws<OverrideException>(() => Render(inv, "n1"));
        Assert.Contains(".sidus-meta:1: 'etc/b' names no file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_HostsAndResolv_FixedAddressNodesListed()
    {
        var inv = Inventory(N("n1"), N("n22", "10.0.0.22"), N("n333", "10.0.0.33"));
        var layer = Render(inv, "n1", new SiteInfo("10.0.0.1:80", "lab", [IPAddress.Parse("10.0.0.53")]));
        var hosts = Text(layer, "etc/hosts");
        Assert.Contains("127.0.1.1\tn1.lab n1\n", hosts, StringComparison.Ordinal);
        Assert.Contains("10.0.0.22\tn22.lab n22\n", hosts, StringComparison.Ordinal);
        Assert.Contains("10.0.0.33\tn333.lab n333\n", hosts, StringComparison.Ordinal);
        Assert.Contains("nameserver 10.0.0.53\n", Text(layer, "etc/resolv.conf"), StringComparison.Ordinal);
        Assert.DoesNotContain(Render(inv, "n22"), f => f.Path == "etc/resolv.conf");
        Assert.DoesNotContain("127.0.1.1", Text(Render(inv, "n22"), "etc/hosts"), StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_GeneratedOnce_StableAcrossRendererInstancesUntilForgotten()
    {
        var inv = Inventory(N("n1"), N("n22"));
        var first = Render(inv, "n1");
        var again = new OverrideRenderer(Locations).Render(new RenderContext(inv, inv.FindNode("n1")!, null, SiteInfo.Unknown));
        var other = Render(inv, "n22");
        foreach (var path in new[] { "etc/machine-id", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ecdsa_key.pub", "etc/ssh/ssh_host_rsa_key" })
        {
            Assert.Equal(first.Single(f => f.Path == path).Content, again.Single(f => f.Path == path).Content);
            Assert.NotEqual(first.Single(f => f.Path == path).Content, other.Single(f => f.Path == path).Content);
        }

        Assert.Matches("^[0-9a-f]{32}\n$", Text(first, "etc/machine-id"));
        Assert.True(first.Single(f => f.Path == "etc/ssh/ssh_host_rsa_key").Secret);
        var dir = new NodeSecrets(Locations.State).DirectoryOf("n1");
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(dir));
        Assert.All(Directory.GetFiles(dir), f => Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(f)));

        Assert.True(new NodeSecrets(Locations.State).Forget("n1"));
        var fresh = Render(inv, "n1");
        Assert.NotEqual(first.Single(f => f.Path == "etc/machine-id").Content, fresh.Single(f => f.Path == "etc/machine-id").Content);
    }

    [Fact]
    public void Fingerprint_MatchesSshKeygen()
    {
        var inv = Inventory(N("n1"));
        var key = new OverrideRenderer(Locations).Secrets.Get("n1").HostKeys.Single(k => k.Type == "ed25519");
        var pub = Path.Combine(_dir, "k.pub");
        File.WriteAllBytes(pub, key.PublicKey);
        var start = new ProcessStartInfo("ssh-keygen", ["-l", "-E", "sha256", "-f", pub]) { RedirectStandardOutput = true };
        using var p = Process.Start(start)!;
        var line = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(10_000));
        Assert.Equal(line.Split(' ')[1], key.Fingerprint);
        Assert.NotNull(inv);
    }

    [Fact]
    public void Render_FileUnderAnotherLevelsFile_Error()
    {
        var inv = Inventory(N("n1"));
        Put("global/etc/x/y", "y");
        Put("nodes/n1/etc/x", "x");
        var e = Assert.Throws<OverrideException>(() => Render(inv, "n1"));
        Assert.Contains("'etc/x/y' (global) lies under 'etc/x'", e.Message, StringComparison.Ordinal);
    }
}
