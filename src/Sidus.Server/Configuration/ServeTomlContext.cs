using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Sidus.Server.Configuration;

/// <summary>Source-generated TOML metadata: the file is read into the untyped model without reflection (AOT-safe).</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ServeTomlContext : TomlSerializerContext;
