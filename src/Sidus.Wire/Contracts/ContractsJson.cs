using System.Text.Json.Serialization;

namespace Sidus.Wire.Contracts;

/// <summary>
/// The JSON of the contracts, generated at build time (the agent is NativeAOT: no reflection). Property names are
/// camelCase; null members are left out.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(NodeEvent))]
[JsonSerializable(typeof(UpReport))]
public sealed partial class ContractsJson : JsonSerializerContext;
