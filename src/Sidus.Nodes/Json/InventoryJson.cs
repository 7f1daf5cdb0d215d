using System.Text.Json.Nodes;

namespace Sidus.Nodes.Json;

/// <summary>
/// The JSON shapes of the inventory, defined once: what the inventory verbs print with --json and what the HTTP API
/// answers (stable field names for scripts). Built as <see cref="JsonNode"/> trees, which NativeAOT writes without
/// reflection.
/// </summary>
public static class InventoryJson
{
    public static JsonObject Settings(NodeSettings s) => new()
    {
        ["image"] = s.Image,
        ["mode"] = s.Mode?.ToText(),
        ["kernelArgs"] = s.KernelArgs,
        ["layout"] = s.Layout,
        ["tags"] = Tags(s.Tags),
        ["updateExcludes"] = Strings(s.UpdateExcludes.IsDefault ? [] : s.UpdateExcludes),
    };

    public static JsonObject Tags(IEnumerable<KeyValuePair<string, string>> tags)
    {
        var o = new JsonObject();
        foreach (var (k, v) in tags)
        {
            o[k] = v;
        }

        return o;
    }

    public static JsonObject Effective(EffectiveSettings e)
    {
        var tags = new JsonObject();
        foreach (var (k, v) in e.Tags)
        {
            tags[k] = Origin(v.Value, v.Origin);
        }

        return new JsonObject
        {
            ["image"] = Origin(e.Image.Value, e.Image.Origin),
            ["mode"] = Origin(e.Mode.Value.ToText(), e.Mode.Origin),
            ["kernelArgs"] = Origin(e.KernelArgs.Value, e.KernelArgs.Origin),
            ["layout"] = Origin(e.Layout.Value, e.Layout.Origin),
            ["tags"] = tags,
            ["updateExcludes"] = new JsonArray([.. e.UpdateExcludes.Select(x => (JsonNode?)Origin(x.Value, x.Origin))]),
        };
    }

    public static JsonObject Node(Node n, EffectiveSettings e) => new()
    {
        ["name"] = n.Name,
        ["macs"] = Strings(n.Macs.Select(m => m.ToString())),
        ["ip"] = n.Ip?.ToString(),
        ["groups"] = Strings(n.Groups),
        ["revision"] = n.Revision,
        ["settings"] = Settings(n.Settings),
        ["effective"] = Effective(e),
    };

    public static JsonObject Group(Group g, int nodeCount) => new()
    {
        ["name"] = g.Name,
        ["description"] = g.Description,
        ["revision"] = g.Revision,
        ["nodes"] = nodeCount,
        ["settings"] = Settings(g.Settings),
    };

    public static JsonObject Network(NetworkPolicy n) => new()
    {
        ["name"] = n.Name,
        ["subnet"] = n.Subnet,
        ["unknown"] = NetworkPolicy.PolicyText(n.Unknown),
        ["group"] = n.DefaultGroup,
        ["revision"] = n.Revision,
    };

    /// <summary>
    /// A stored layout at one revision: name, revision, how many revisions it has, when that revision was stored, its
    /// users (<see cref="Layouts.LayoutUsers"/>) and, unless <paramref name="withText"/> is false (the list), its YAML.
    /// </summary>
    public static JsonObject Layout(Layouts.StoredLayout l, IReadOnlyList<string> users, bool withText)
    {
        var o = new JsonObject
        {
            ["name"] = l.Name,
            ["revision"] = l.Revision,
            ["revisions"] = l.Revisions,
            ["updated"] = l.At.ToString("O", CultureInfo.InvariantCulture),
            ["usedBy"] = Strings(users),
        };
        if (withText)
        {
            o["text"] = l.Text;
        }

        return o;
    }

    /// <summary>A JSON array of strings, without the generic, reflection-based JsonArray.Add&lt;T&gt;.</summary>
    public static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonObject Origin(string? value, string origin) => new() { ["value"] = value, ["from"] = origin };
}
