using System.Text.Json;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>The JSON shapes the inventory verbs print with --json (stable field names for scripts).</summary>
public static class InventoryJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Print(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Indented));

    public static JsonObject Settings(NodeSettings s) => new()
    {
        ["image"] = s.Image,
        ["mode"] = s.Mode?.ToText(),
        ["kernelArgs"] = s.KernelArgs,
        ["tags"] = Tags(s.Tags),
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
            ["tags"] = tags,
        };
    }

    public static JsonObject Node(Sidus.Nodes.Node n, EffectiveSettings e) => new()
    {
        ["name"] = n.Name,
        ["macs"] = new JsonArray([.. n.Macs.Select(m => (JsonNode?)JsonValue.Create(m.ToString()))]),
        ["ip"] = n.Ip?.ToString(),
        ["groups"] = new JsonArray([.. n.Groups.Select(g => (JsonNode?)JsonValue.Create(g))]),
        ["revision"] = n.Revision,
        ["settings"] = Settings(n.Settings),
        ["effective"] = Effective(e),
    };

    public static JsonObject Group(Sidus.Nodes.Group g, int nodeCount) => new()
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

    private static JsonObject Origin(string? value, string origin) => new() { ["value"] = value, ["from"] = origin };
}
