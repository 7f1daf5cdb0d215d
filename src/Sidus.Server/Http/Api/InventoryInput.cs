using System.Collections.Immutable;
using System.Text.Json;

namespace Sidus.Server.Http.Api;

/// <summary>
/// Reads the API's request bodies into inventory records. The fields are those of the shapes the API answers with
/// (<see cref="Sidus.Nodes.Json.InventoryJson"/>), so what a GET gave can be changed and PUT back: read-only fields
/// (<c>name</c>, <c>revision</c>, <c>effective</c>, <c>nodes</c>) are taken and checked, unknown fields refused.
/// A PUT gives the whole record (what it leaves out is unset); a PATCH is a JSON merge patch (RFC 7396): the fields
/// it gives replace, a null unsets, and in <c>tags</c> a null removes that tag (<c>updateExcludes</c>, a list, is
/// replaced whole).
/// </summary>
public static class InventoryInput
{
    private static readonly string[] NodeFields = ["name", "macs", "ip", "groups", "settings", "revision", "effective"];
    private static readonly string[] GroupFields = ["name", "description", "settings", "revision", "nodes"];
    private static readonly string[] SettingsFields = ["image", "mode", "kernelArgs", "layout", "tags", "updateExcludes"];
    private static readonly string[] NetworkFields = ["name", "subnet", "unknown", "group", "revision"];

    /// <summary>A node from BODY, on top of OLD (a PATCH) or of nothing (a PUT); NAME is the URL's.</summary>
    public static Node Node(string name, JsonElement body, Node? old)
    {
        Check(body, NodeFields, "a node");
        CheckName(body, name);
        var node = old ?? new Node { Name = name };
        if (old is null || body.TryGetProperty("macs", out _))
        {
            node = node with { Macs = [.. Strings(body, "macs").Select(MacAddress.Parse)] };
        }

        if (old is null || body.TryGetProperty("ip", out _))
        {
            node = node with { Ip = OptionalString(body, "ip") is { } ip ? Names.Ipv4(ip) : null };
        }

        if (old is null || body.TryGetProperty("groups", out _))
        {
            node = node with { Groups = [.. Strings(body, "groups").Select(g => g.ToLowerInvariant())] };
        }

        return node with { Settings = Settings(body, old?.Settings) };
    }

    /// <summary>A group from BODY, on top of OLD (a PATCH) or of nothing (a PUT).</summary>
    public static Group Group(string name, JsonElement body, Group? old)
    {
        Check(body, GroupFields, "a group");
        CheckName(body, name);
        var group = old ?? new Group { Name = name };
        if (old is null || body.TryGetProperty("description", out _))
        {
            group = group with { Description = OptionalString(body, "description") };
        }

        return group with { Settings = Settings(body, old?.Settings) };
    }

    /// <summary>The defaults: BODY is a settings object, on top of OLD for a PATCH.</summary>
    public static NodeSettings Defaults(JsonElement body, NodeSettings? old)
    {
        Check(body, SettingsFields, "the defaults");
        return SettingsFrom(body, old);
    }

    /// <summary>A network from BODY, on top of OLD (a PATCH) or of a new one (a PUT).</summary>
    public static NetworkPolicy Network(string name, JsonElement body, NetworkPolicy? old)
    {
        Check(body, NetworkFields, "a network");
        CheckName(body, name);
        var network = old ?? new NetworkPolicy { Name = name };
        if (old is null || body.TryGetProperty("subnet", out _))
        {
            network = network with { Subnet = OptionalString(body, "subnet") };
        }

        if (old is null || body.TryGetProperty("unknown", out _))
        {
            network = network with { Unknown = OptionalString(body, "unknown") is { } p ? NetworkPolicy.ParsePolicy(p) : UnknownMachinePolicy.Ignore };
        }

        if (old is null || body.TryGetProperty("group", out _))
        {
            network = network with { DefaultGroup = OptionalString(body, "group") };
        }

        return network;
    }

    /// <summary>The revision the client last saw, when it sent one: the change is refused if it moved since.</summary>
    public static long? Revision(JsonElement body) =>
        body.TryGetProperty("revision", out var r) && r.ValueKind != JsonValueKind.Null
            ? r.ValueKind == JsonValueKind.Number && r.TryGetInt64(out var v) ? v : throw Invalid("'revision' must be a whole number")
            : null;

    private static NodeSettings Settings(JsonElement body, NodeSettings? old)
    {
        if (!body.TryGetProperty("settings", out var s) || s.ValueKind == JsonValueKind.Null)
        {
            return old ?? NodeSettings.Empty;
        }

        if (s.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("'settings' must be an object {image, mode, kernelArgs, layout, tags, updateExcludes}");
        }

        Check(s, SettingsFields, "settings");
        return SettingsFrom(s, old);
    }

    private static NodeSettings SettingsFrom(JsonElement s, NodeSettings? old)
    {
        var settings = old ?? NodeSettings.Empty;
        if (old is null || s.TryGetProperty("image", out _))
        {
            settings = settings with { Image = OptionalString(s, "image") is { } i ? Names.ImageRef(i) : null };
        }

        if (old is null || s.TryGetProperty("mode", out _))
        {
            settings = settings with { Mode = OptionalString(s, "mode") is { } m ? BootModeSetting.Parse(m) : null };
        }

        if (old is null || s.TryGetProperty("kernelArgs", out _))
        {
            settings = settings with { KernelArgs = OptionalString(s, "kernelArgs") is { } a ? Names.KernelArgs(a) : null };
        }

        if (old is null || s.TryGetProperty("layout", out _))
        {
            settings = settings with { Layout = OptionalString(s, "layout") is { } l ? Names.Label(l, "layout") : null };
        }

        if (old is null || s.TryGetProperty("updateExcludes", out _))
        {
            settings = settings with { UpdateExcludes = [.. Strings(s, "updateExcludes").Select(Names.UpdateExclude)] };
        }

        var tags = old is null ? ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal) : settings.Tags;
        if (s.TryGetProperty("tags", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("'tags' must be an object of KEY: VALUE");
            }

            foreach (var tag in t.EnumerateObject())
            {
                tags = tag.Value.ValueKind switch
                {
                    JsonValueKind.Null => tags.Remove(tag.Name),
                    JsonValueKind.String => tags.SetItem(Names.TagKey(tag.Name), Names.TagValue(tag.Name, tag.Value.GetString()!)),
                    _ => throw Invalid($"tag '{tag.Name}' must be a string (or null to remove it)"),
                };
            }
        }
        else if (s.TryGetProperty("tags", out _))
        {
            tags = tags.Clear();
        }

        return settings with { Tags = tags };
    }

    private static void Check(JsonElement body, string[] known, string what)
    {
        foreach (var p in body.EnumerateObject())
        {
            if (!known.Contains(p.Name, StringComparer.Ordinal))
            {
                throw Invalid($"{what} has no field '{p.Name}' (fields: {string.Join(", ", known)})");
            }
        }
    }

    private static void CheckName(JsonElement body, string name)
    {
        if (OptionalString(body, "name") is { } given && !given.Equals(name, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"the body names '{given}' but the URL '{name}': rename by removing and adding");
        }
    }

    private static string? OptionalString(JsonElement body, string field) =>
        !body.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw Invalid($"'{field}' must be a string or null");

    private static IEnumerable<string> Strings(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            throw Invalid($"'{field}' must be a list of strings");
        }

        return [.. v.EnumerateArray().Select(x => x.GetString()!)];
    }

    private static InventoryException Invalid(string message) => new(InventoryErrorKind.Invalid, message);
}
