using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidus.Nodes.Yaml;

/// <summary>
/// Strict reading of a YamlDotNet node tree (no reflection: AOT-safe): every error names the file, the line and
/// column of the offending node, and what was expected. <paramref name="fail"/>-style callers turn the message into
/// their own exception type.
/// </summary>
internal sealed class YamlReading(string source, Func<string, Exception> error)
{
    public string Source => source;

    /// <summary>The root mapping of TEXT, or null for an empty document.</summary>
    public YamlMappingNode? Root(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw error($"{source}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            throw Fail(stream.Documents[1].RootNode, "only one YAML document is allowed");
        }

        return Mapping(stream.Documents[0].RootNode, "the top level");
    }

    public YamlMappingNode Mapping(YamlNode node, string what) =>
        node as YamlMappingNode ?? throw Fail(node, $"{what} must be a mapping (key: value lines)");

    public IEnumerable<YamlNode> Sequence(YamlMappingNode m, string key) => Child(m, key) switch
    {
        null => [],
        YamlSequenceNode s => s.Children,
        YamlScalarNode { Value: null or "" } => [],
        var other => throw Fail(other, $"'{key}' must be a list"),
    };

    public static YamlNode? Child(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    public string Scalar(YamlNode node) => node switch
    {
        YamlScalarNode { Value: { } v } => v,
        YamlScalarNode => string.Empty,
        _ => throw Fail(node, "expected a single value here"),
    };

    public string? Optional(YamlMappingNode m, string key) => Child(m, key) is { } v ? Scalar(v) : null;

    public string Required(YamlMappingNode m, string key, string what) =>
        Optional(m, key) is { Length: > 0 } v ? v : throw Fail(m, $"{what} needs '{key}'");

    public bool Flag(YamlMappingNode m, string key) => Child(m, key) is not { } v ? false : Scalar(v).ToLowerInvariant() switch
    {
        "true" or "yes" => true,
        "false" or "no" => false,
        _ => throw Fail(v, $"'{key}' is true or false"),
    };

    /// <summary>A list of values, or one value standing for a list of one.</summary>
    public ImmutableArray<string> Strings(YamlMappingNode m, string key) => Child(m, key) switch
    {
        null => [],
        YamlSequenceNode s => [.. s.Children.Select(Scalar)],
        var one => [Scalar(one)],
    };

    public void CheckKeys(YamlMappingNode m, IReadOnlyCollection<string> allowed, string what)
    {
        foreach (var key in m.Children.Keys)
        {
            var name = Scalar(key);
            if (!allowed.Contains(name))
            {
                throw Fail(key, $"'{name}' is not a key of {what} (known: {string.Join(", ", allowed)})");
            }
        }
    }

    public static int LineOf(YamlNode node) => (int)node.Start.Line;

    public Exception Fail(YamlNode at, string message) => error($"{source}:{at.Start.Line}:{at.Start.Column}: {message}");
}
