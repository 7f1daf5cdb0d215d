using System.Text.Json;

namespace Sidus.Wire.Contracts;

/// <summary>One path found changed on a node since its last sync: <c>added</c>, <c>removed</c>, <c>modified</c> or <c>metadata</c>.</summary>
public sealed record DriftItem(string Kind, string Path);

/// <summary>
/// What `sidus-agent update` (and `drift`) did on a node, as the agent prints it with --json and the server shows
/// it: the version now matched, files created/updated/deleted, bytes received and written, drift found, whether a
/// reboot is needed and why, what was done to the bootloader, and the problem when it failed.
/// </summary>
public sealed record NodeUpdateResult
{
    /// <summary>Paths whose change needs a reboot to take effect: the kernel and its modules, the initramfs, systemd, the C library.</summary>
    public static readonly IReadOnlyList<(string Prefix, string Why)> RebootPaths =
    [
        ("boot/vmlinuz", "the kernel changed"),
        ("boot/initrd", "the initramfs changed"),
        ("usr/lib/modules/", "kernel modules changed"),
        ("lib/modules/", "kernel modules changed"),
        ("usr/lib/systemd/systemd", "systemd changed"),
        ("lib/systemd/systemd", "systemd changed"),
        ("usr/lib/x86_64-linux-gnu/libc.so", "the C library changed"),
        ("lib/x86_64-linux-gnu/libc.so", "the C library changed"),
        ("usr/lib/x86_64-linux-gnu/libsystemd-shared", "systemd changed"),
    ];

    /// <summary>The version the root now matches (or would, on a dry run): "VERSIONID IMAGE@SEQ" parts.</summary>
    public string? Version { get; init; }
    public string? Ref { get; init; }

    /// <summary>The version the root held before (from its version file), when known.</summary>
    public string? Previous { get; init; }

    public bool DryRun { get; init; }
    public long Created { get; init; }
    public long Updated { get; init; }
    public long Deleted { get; init; }
    public long Unchanged { get; init; }

    /// <summary>Bytes received from the server (manifest and contents, as sent: compressed where they were).</summary>
    public long BytesReceived { get; init; }

    /// <summary>Bytes of file data written.</summary>
    public long BytesWritten { get; init; }
    public double Seconds { get; init; }

    /// <summary>False when there was no record of a last sync to compare with.</summary>
    public bool DriftKnown { get; init; }
    public IReadOnlyList<DriftItem> Drift { get; init; } = [];

    /// <summary>True when drifted paths were left as they are (--keep-drift) instead of overwritten.</summary>
    public bool DriftKept { get; init; }
    public bool RebootNeeded => RebootReasons.Count > 0;
    public IReadOnlyList<string> RebootReasons { get; init; } = [];

    /// <summary>True when the node was told to reboot once the update needed it (`sidus node update --reboot`) and is rebooting.</summary>
    public bool Rebooting { get; init; }

    /// <summary>What was done to the bootloader's configuration after a kernel change, when anything.</summary>
    public string? Bootloader { get; init; }

    /// <summary>Why the update failed; null when it did not.</summary>
    public string? Problem { get; init; }

    public string ToJson() => ContractsJson.Write(json =>
    {
        json.WriteStartObject();
        Text(json, "version", Version);
        Text(json, "ref", Ref);
        Text(json, "previous", Previous);
        json.WriteBoolean("dryRun", DryRun);
        json.WriteNumber("created", Created);
        json.WriteNumber("updated", Updated);
        json.WriteNumber("deleted", Deleted);
        json.WriteNumber("unchanged", Unchanged);
        json.WriteNumber("bytesReceived", BytesReceived);
        json.WriteNumber("bytesWritten", BytesWritten);
        json.WriteNumber("seconds", Math.Round(Seconds, 3));
        json.WriteBoolean("driftKnown", DriftKnown);
        json.WriteBoolean("driftKept", DriftKept);
        json.WriteStartArray("drift");
        foreach (var item in Drift)
        {
            json.WriteStartObject();
            json.WriteString("kind", item.Kind);
            json.WriteString("path", item.Path);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteBoolean("rebootNeeded", RebootNeeded);
        json.WriteStartArray("rebootReasons");
        foreach (var reason in RebootReasons)
        {
            json.WriteStringValue(reason);
        }

        json.WriteEndArray();
        json.WriteBoolean("rebooting", Rebooting);
        Text(json, "bootloader", Bootloader);
        Text(json, "problem", Problem);
        json.WriteEndObject();
    });

    /// <summary>Reads <see cref="ToJson"/>'s text; malformed JSON throws <see cref="JsonException"/>.</summary>
    public static NodeUpdateResult FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("an update result is a JSON object");
        }

        string? S(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long L(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        bool B(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        IEnumerable<JsonElement> A(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];
        return new NodeUpdateResult
        {
            Version = S("version"),
            Ref = S("ref"),
            Previous = S("previous"),
            DryRun = B("dryRun"),
            Created = L("created"),
            Updated = L("updated"),
            Deleted = L("deleted"),
            Unchanged = L("unchanged"),
            BytesReceived = L("bytesReceived"),
            BytesWritten = L("bytesWritten"),
            Seconds = root.TryGetProperty("seconds", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0,
            DriftKnown = B("driftKnown"),
            DriftKept = B("driftKept"),
            Drift = [.. A("drift").Select(d => new DriftItem(d.GetProperty("kind").GetString() ?? "", d.GetProperty("path").GetString() ?? ""))],
            RebootReasons = [.. A("rebootReasons").Select(r => r.GetString() ?? "")],
            Rebooting = B("rebooting"),
            Bootloader = S("bootloader"),
            Problem = S("problem"),
        };
    }

    private static void Text(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
