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

/// <summary>
/// <see cref="ContractsJson"/>'s writing half alone: the node agent only writes events, and without the reading
/// metadata its NativeAOT binary is smaller. Same options, so the bytes are the same.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    IgnoreReadOnlyProperties = true,
    GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(NodeEvent))]
[JsonSerializable(typeof(UpReport))]
internal sealed partial class ContractsJsonWriter : JsonSerializerContext;
