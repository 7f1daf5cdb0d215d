using System.Text.Json;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>
/// Prints what the inventory verbs give with --json. The shapes themselves are defined once, in
/// <see cref="Sidus.Nodes.Json.InventoryJson"/>, which the HTTP API answers with too.
/// </summary>
public static class InventoryJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Print(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Indented));
}
