using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidus.Nodes.Yaml;

/// <summary>
/// Reads and writes cluster.yaml through YamlDotNet's node model (no reflection: AOT-safe), strictly: an unknown
/// key is an error with its line and column, because a typo silently ignored is a node booting the wrong image.
/// </summary>
public static class InventoryYaml
{
    private static readonly string[] TopKeys = ["version", "layouts", "defaults", "networks", "groups", "nodes"];
    private static readonly string[] SettingKeys = ["image", "mode", "kernel-args", "layout", "tags", "update-excludes"];
    private static readonly string[] NodeKeys = ["name", "mac", "macs", "ip", "group", "groups", .. SettingKeys];
    private static readonly string[] GroupKeys = ["name", "description", .. SettingKeys];
    private static readonly string[] NetworkKeys = ["name", "subnet", "unknown", "group"];

    /// <summary>
    /// Reads TEXT, a cluster.yaml named SOURCE in messages. A layout given as <c>file: PATH</c> is read with
    /// <paramref name="readLayoutFile"/> (PATH as written: the caller resolves it against the cluster file's
    /// directory, and says how the file is named in messages); without it (the HTTP API) such a layout is refused.
    /// </summary>
    public static InventoryDocument Parse(string text, string source = "cluster.yaml", Func<string, (string Text, string Source)>? readLayoutFile = null)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"{source}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return new InventoryDocument();
        }

        if (stream.Documents.Count > 1)
        {
            Fail(source, stream.Documents[1].RootNode, "only one YAML document is allowed");
        }

        var root = AsMapping(source, stream.Documents[0].RootNode, "the top level");
        CheckKeys(source, root, TopKeys, "the top level");
        if (Child(root, "version") is { } v && Scalar(source, v) != InventoryDocument.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            Fail(source, v, $"this sidus reads cluster.yaml version {InventoryDocument.FormatVersion}");
        }

        return new InventoryDocument
        {
            Defaults = Child(root, "defaults") is { } d ? Guard(source, d, () => ReadSettings(source, AsMapping(source, d, "defaults"), "defaults").Validated()) : null,
            Networks = Items(source, root, "networks").Select(n => Guard(source, n, () => ReadNetwork(source, n))).ToList(),
            Groups = Items(source, root, "groups").Select(n => Guard(source, n, () => ReadGroup(source, n))).ToList(),
            Nodes = Items(source, root, "nodes").Select(n => Guard(source, n, () => ReadNode(source, n))).ToList(),
            Layouts = ClusterLayouts.Read(source, text, Child(root, "layouts"), readLayoutFile, (at, message) => Fail<Exception>(source, at, message)),
            ImageLocations = SettingKeyLocations(source, root, "image"),
            LayoutLocations = SettingKeyLocations(source, root, "layout"),
        };
    }

    /// <summary>Where each KEY setting is (cluster.yaml:LINE:COL), by holder: "defaults", "group:NAME", "node:NAME".</summary>
    private static Dictionary<string, string> SettingKeyLocations(string source, YamlMappingNode root, string settingKey)
    {
        var at = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string holder, YamlNode? node)
        {
            if (node is YamlMappingNode m && m.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } v } && v == settingKey) is { } key)
            {
                at[holder] = $"{source}:{key.Start.Line}:{key.Start.Column}";
            }
        }

        Add("defaults", Child(root, "defaults"));
        foreach (var (section, kind) in new[] { ("groups", "group"), ("nodes", "node") })
        {
            foreach (var item in Items(source, root, section).OfType<YamlMappingNode>())
            {
                if (Child(item, "name") is YamlScalarNode { Value: { } name })
                {
                    Add($"{kind}:{name.ToLowerInvariant()}", item);
                }
            }
        }

        return at;
    }

    public static void Write(InventoryDocument doc, TextWriter writer)
    {
        var root = new YamlMappingNode { { "version", InventoryDocument.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        if (doc.Layouts.Count > 0)
        {
            // As literal blocks: the text comes back byte for byte, so applying the export adds no revision.
            var layouts = new YamlMappingNode();
            foreach (var l in doc.Layouts)
            {
                layouts.Add(new YamlScalarNode(l.Name), new YamlScalarNode(l.Text) { Style = ScalarStyle.Literal });
            }

            root.Add("layouts", layouts);
        }

        if (doc.Defaults is { } d)
        {
            root.Add("defaults", WriteSettings(new YamlMappingNode(), d));
        }

        if (doc.Networks.Count > 0)
        {
            root.Add("networks", new YamlSequenceNode(doc.Networks.Select(n =>
            {
                var m = new YamlMappingNode { { "name", n.Name } };
                if (n.Subnet is not null)
                {
                    m.Add("subnet", n.Subnet);
                }

                m.Add("unknown", NetworkPolicy.PolicyText(n.Unknown));
                if (n.DefaultGroup is not null)
                {
                    m.Add("group", n.DefaultGroup);
                }

                return (YamlNode)m;
            })));
        }

        if (doc.Groups.Count > 0)
        {
            root.Add("groups", new YamlSequenceNode(doc.Groups.Select(g =>
            {
                var m = new YamlMappingNode { { "name", g.Name } };
                if (g.Description is not null)
                {
                    m.Add("description", Quoted(g.Description));
                }

                return (YamlNode)WriteSettings(m, g.Settings);
            })));
        }

        if (doc.Nodes.Count > 0)
        {
            root.Add("nodes", new YamlSequenceNode(doc.Nodes.Select(n =>
            {
                var m = new YamlMappingNode
                {
                    { "name", n.Name },
                    { "macs", Flow(n.Macs.Select(x => x.ToString())) },
                };
                if (n.Ip is not null)
                {
                    m.Add("ip", n.Ip.ToString());
                }

                if (n.Groups.Length > 0)
                {
                    m.Add("groups", Flow(n.Groups));
                }

                return (YamlNode)WriteSettings(m, n.Settings);
            })));
        }

        writer.WriteLine("# Sidus inventory: `sidus apply -f FILE` makes the inventory match this file.");
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
    }

    public static string Write(InventoryDocument doc)
    {
        using var sw = new StringWriter();
        Write(doc, sw);
        return sw.ToString();
    }

    private static YamlMappingNode WriteSettings(YamlMappingNode m, NodeSettings s)
    {
        if (s.Image is not null)
        {
            m.Add("image", s.Image);
        }

        if (s.Mode is { } mode)
        {
            m.Add("mode", mode.ToText());
        }

        if (s.KernelArgs is not null)
        {
            m.Add("kernel-args", Quoted(s.KernelArgs));
        }

        if (s.Layout is not null)
        {
            m.Add("layout", s.Layout);
        }

        if (!s.Tags.IsEmpty)
        {
            var tags = new YamlMappingNode();
            foreach (var (k, v) in s.Tags)
            {
                tags.Add(new YamlScalarNode(k), Quoted(v));
            }

            m.Add("tags", tags);
        }

        if (!s.UpdateExcludes.IsDefaultOrEmpty)
        {
            m.Add("update-excludes", new YamlSequenceNode(s.UpdateExcludes.Select(p => (YamlNode)Quoted(p))));
        }

        return m;
    }

    private static YamlScalarNode Quoted(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    private static YamlSequenceNode Flow(IEnumerable<string> items) =>
        new(items.Select(i => (YamlNode)new YamlScalarNode(i))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow };

    private static NetworkPolicy ReadNetwork(string source, YamlNode node)
    {
        var m = AsMapping(source, node, "a network");
        var name = RequiredScalar(source, m, "name", "a network");
        CheckKeys(source, m, NetworkKeys, $"network '{name}'");
        return new NetworkPolicy
        {
            Name = name,
            Subnet = OptionalScalar(source, m, "subnet"),
            Unknown = ParsedValue(source, m, "unknown", NetworkPolicy.ParsePolicy) ?? UnknownMachinePolicy.Ignore,
            DefaultGroup = OptionalScalar(source, m, "group"),
        }.Validated();
    }

    private static Group ReadGroup(string source, YamlNode node)
    {
        var m = AsMapping(source, node, "a group");
        var name = RequiredScalar(source, m, "name", "a group");
        CheckKeys(source, m, GroupKeys, $"group '{name}'");
        return new Group
        {
            Name = name,
            Description = OptionalScalar(source, m, "description"),
            Settings = ReadSettings(source, m, $"group '{name}'"),
        }.Validated();
    }

    private static Node ReadNode(string source, YamlNode node)
    {
        var m = AsMapping(source, node, "a node");
        var name = RequiredScalar(source, m, "name", "a node");
        CheckKeys(source, m, NodeKeys, $"node '{name}'");
        var macs = ScalarNodes(m, "mac", "macs").Select(v => Guard(source, v, () => MacAddress.Parse(Scalar(source, v)))).ToImmutableArray();
        return new Node
        {
            Name = name,
            Macs = macs,
            Ip = Parsed(source, m, "ip", Names.Ipv4),
            Groups = [.. StringList(source, m, "group", "groups")],
            Settings = ReadSettings(source, m, $"node '{name}'"),
        }.Validated();
    }

    private static NodeSettings ReadSettings(string source, YamlMappingNode m, string what)
    {
        var tags = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (Child(m, "tags") is { } t)
        {
            foreach (var (k, v) in AsMapping(source, t, $"the tags of {what}").Children)
            {
                tags[Scalar(source, k)] = Scalar(source, v);
            }
        }

        return new NodeSettings
        {
            Image = OptionalScalar(source, m, "image"),
            Mode = ParsedValue(source, m, "mode", BootModeSetting.Parse),
            KernelArgs = OptionalScalar(source, m, "kernel-args"),
            Layout = OptionalScalar(source, m, "layout"),
            Tags = tags.ToImmutable(),
            UpdateExcludes = [.. (Child(m, "update-excludes") switch { null => [], YamlSequenceNode seq => seq.Children, var one => [one] })
                .Select(v => Guard(source, v, () => Names.UpdateExclude(Scalar(source, v))))],
        };
    }

    /// <summary>KEY's value parsed by PARSE; a refusal names the line of KEY's value, not of the item holding it.</summary>
    private static T? Parsed<T>(string source, YamlMappingNode m, string key, Func<string, T> parse)
        where T : class =>
        Child(m, key) is { } v ? Guard(source, v, () => parse(Scalar(source, v))) : null;

    private static T? ParsedValue<T>(string source, YamlMappingNode m, string key, Func<string, T> parse)
        where T : struct =>
        Child(m, key) is { } v ? Guard(source, v, () => parse(Scalar(source, v))) : null;

    /// <summary>The value nodes of SINGLE (one value) and PLURAL (a list or one value).</summary>
    private static List<YamlNode> ScalarNodes(YamlMappingNode m, string single, string plural)
    {
        var list = new List<YamlNode>();
        if (Child(m, single) is { } one)
        {
            list.Add(one);
        }

        if (Child(m, plural) is { } many)
        {
            list.AddRange(many is YamlSequenceNode seq ? seq.Children : [many]);
        }

        return list;
    }

    private static List<string> StringList(string source, YamlMappingNode m, string single, string plural)
    {
        var list = new List<string>();
        if (Child(m, single) is { } one)
        {
            list.Add(Scalar(source, one));
        }

        if (Child(m, plural) is { } many)
        {
            if (many is YamlSequenceNode seq)
            {
                list.AddRange(seq.Children.Select(c => Scalar(source, c)));
            }
            else
            {
                list.Add(Scalar(source, many));
            }
        }

        return list;
    }

    private static IEnumerable<YamlNode> Items(string source, YamlMappingNode root, string key) => Child(root, key) switch
    {
        null => [],
        YamlScalarNode { Value: null or "" } => [],
        YamlSequenceNode seq => seq.Children,
        var other => Fail<IEnumerable<YamlNode>>(source, other, $"'{key}' must be a list (items starting with '- ')"),
    };

    private static T Guard<T>(string source, YamlNode at, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InventoryException e) when (!e.Message.StartsWith(source + ":", StringComparison.Ordinal))
        {
            throw new InventoryException(e.Kind, $"{source}:{at.Start.Line}:{at.Start.Column}: {e.Message}", e);
        }
    }

    private static YamlNode? Child(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static string? OptionalScalar(string source, YamlMappingNode m, string key) =>
        Child(m, key) is { } v ? Scalar(source, v) : null;

    private static string RequiredScalar(string source, YamlMappingNode m, string key, string what) =>
        OptionalScalar(source, m, key) ?? Fail<string>(source, m, $"{what} has no '{key}'");

    private static string Scalar(string source, YamlNode node) => node switch
    {
        YamlScalarNode { Value: { } v } => v,
        YamlScalarNode => "",
        _ => Fail<string>(source, node, "expected a single value here, not a list or mapping"),
    };

    private static YamlMappingNode AsMapping(string source, YamlNode node, string what) =>
        node as YamlMappingNode ?? Fail<YamlMappingNode>(source, node, $"{what} must be a mapping (key: value lines)");

    private static void CheckKeys(string source, YamlMappingNode m, string[] allowed, string what)
    {
        foreach (var key in m.Children.Keys)
        {
            var k = Scalar(source, key);
            if (!allowed.Contains(k, StringComparer.Ordinal))
            {
                Fail(source, key, $"unknown key '{k}' in {what} (known keys: {string.Join(", ", allowed)})");
            }
        }
    }

    private static void Fail(string source, YamlNode at, string message) => Fail<bool>(source, at, message);

    private static T Fail<T>(string source, YamlNode at, string message) =>
        Throw.Invalid<T>($"{source}:{at.Start.Line}:{at.Start.Column}: {message}");
}
