using Sidus.Nodes.Layouts;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Sidus.Nodes.Yaml;

/// <summary>
/// The `layouts:` map of a cluster.yaml: NAME to a layout written inline (a mapping with version and items, or
/// just the items list), as a literal block (`|`, what `sidus export` writes), or as <c>file: PATH</c>. Each is
/// checked as `sidus layout check` checks a file, with the lines of the cluster.yaml (or of the file) in errors.
/// </summary>
internal static class ClusterLayouts
{
    public static List<LayoutDefinition> Read(
        string source, string text, YamlNode? section, Func<string, (string Text, string Source)>? readFile,
        Func<YamlNode, string, Exception> fail)
    {
        var list = new List<LayoutDefinition>();
        switch (section)
        {
            case null or YamlScalarNode { Value: null or "" }:
                return list;
            case not YamlMappingNode:
                throw fail(section, "'layouts' must be a mapping of NAME: layout");
        }

        foreach (var (key, value) in ((YamlMappingNode)section).Children)
        {
            var at = $"{source}:{key.Start.Line}:{key.Start.Column}";
            string name;
            try
            {
                name = Names.Label((key as YamlScalarNode)?.Value, "layout");
            }
            catch (InventoryException e)
            {
                throw fail(key, e.Message);
            }

            list.Add(new LayoutDefinition(name, Body(source, text, name, value, readFile, fail), at));
        }

        return list;
    }

    /// <summary>The layout's text as it is stored, checked first (with the lines of where it was written).</summary>
    private static string Body(
        string source, string text, string name, YamlNode value, Func<string, (string Text, string Source)>? readFile,
        Func<YamlNode, string, Exception> fail)
    {
        if (value is YamlMappingNode { Children.Count: 1 } m && m.Children.Keys.Single() is YamlScalarNode { Value: "file" } fileKey)
        {
            if (readFile is null)
            {
                throw fail(fileKey, $"layout '{name}': 'file:' is read by `sidus apply -f` where the file is; here, write the layout inline");
            }

            if (m.Children[fileKey] is not YamlScalarNode { Value: { Length: > 0 } path })
            {
                throw fail(m.Children[fileKey], $"layout '{name}': 'file' is the path of a layout file, relative to {source}");
            }

            var (fileText, fileSource) = readFile(path);
            StoredLayout.Check(fileText, fileSource);
            return fileText;
        }

        var line = (int)value.Start.Line;
        var indent = new string(' ', (int)value.Start.Column - 1);
        switch (value)
        {
            case YamlScalarNode { Style: ScalarStyle.Literal, Value: { } literal }:
                // The block's text starts on the line after the '|'.
                Check(new string('\n', line) + literal, source);
                return literal;
            case YamlMappingNode:
            {
                var fragment = Fragment(text, value);
                Check(new string('\n', line - 1) + indent + fragment, source);
                return Dedent(indent + fragment, indent.Length);
            }

            case YamlSequenceNode when line >= 2:
            {
                // Only the items: checked under an 'items:' line of its own, so that the lines stay the file's.
                var fragment = Fragment(text, value);
                Check(new string('\n', line - 2) + "items:\n" + indent + fragment, source);
                return $"version: {LayoutYaml.FormatVersion}\nitems:\n" + Dedent(indent + fragment, indent.Length);
            }

            default:
                throw fail(value, $"layout '{name}' must be a layout (version and items), its list of items, a literal block (|) or file: PATH");
        }
    }

    private static void Check(string text, string source) => StoredLayout.Check(text, source);

    /// <summary>The text of NODE as written in the file, from its first character to the end of its last value.</summary>
    private static string Fragment(string text, YamlNode node)
    {
        var start = (int)node.Start.Index;
        return text[start..Math.Min(EndIndex(text, node), text.Length)].TrimEnd() + "\n";
    }

    /// <summary>
    /// Where NODE's text ends. Not its End mark: a block collection's reaches into what follows (comments, the next
    /// key), and YamlDotNet's End of a flow collection is just past its opening bracket. So: a scalar's end, a block
    /// collection's last value's, a flow collection's closing bracket after its last value.
    /// </summary>
    private static int EndIndex(string text, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode { Style: MappingStyle.Flow } or YamlSequenceNode { Style: SequenceStyle.Flow }:
                var close = node is YamlMappingNode ? '}' : ']';
                var pos = LastChild(node) is { } last ? EndIndex(text, last) : (int)node.Start.Index + 1;
                while (pos < text.Length && text[pos] != close)
                {
                    pos++;
                }

                return pos + 1;
            case YamlMappingNode or YamlSequenceNode:
                return LastChild(node) is { } child ? EndIndex(text, child) : (int)node.End.Index;
            default:
                return (int)node.End.Index;
        }
    }

    private static YamlNode? LastChild(YamlNode node) => node switch
    {
        YamlMappingNode { Children.Count: > 0 } m => m.Children.Last().Value,
        YamlSequenceNode { Children.Count: > 0 } q => q.Children[^1],
        _ => null,
    };

    /// <summary>TEXT with up to WIDTH leading spaces taken off every line.</summary>
    private static string Dedent(string text, int width) =>
        string.Join('\n', text.Split('\n').Select(l => l[Math.Min(width, l.Length - l.TrimStart(' ').Length)..]));
}
