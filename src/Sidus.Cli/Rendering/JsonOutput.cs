using System.Text.Json;

namespace Sidus.Cli.Rendering;

/// <summary>JSON for scripts: stable field names in snake_case, one document on stdout.</summary>
public static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static void Write(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Options));
}

public static class JsonArrayExtensions
{
    /// <summary>Adds a node without the generic, reflection-based JsonArray.Add&lt;T&gt;.</summary>
    public static void Append(this JsonArray array, JsonNode? node) => ((ICollection<JsonNode?>)array).Add(node);
}
