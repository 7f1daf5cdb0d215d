using Sidus.Nodes.Yaml;
using YamlDotNet.RepresentationModel;

namespace Sidus.Nodes.Layouts;

/// <summary>
/// Reads a layout file (docs/layouts.md): <c>version: 1</c>, an optional <c>description</c>, and <c>items</c>, an
/// ordered list in the spirit of curtin's storage config where each item has an <c>id</c> and a <c>type</c> and names
/// earlier items by id. Unknown keys are errors with their line: a typo must not wipe the wrong disk.
/// </summary>
public static class LayoutYaml
{
    public const int FormatVersion = 1;
    private static readonly string[] TopKeys = ["version", "description", "items"];
    private static readonly string[] MatchKeys = ["serial", "wwn", "path", "size", "first"];

    private static readonly Dictionary<string, string[]> KeysByType = new(StringComparer.Ordinal)
    {
        ["disk"] = ["id", "type", "match", "table", "preserve"],
        ["partition"] = ["id", "type", "disk", "size", "flags", "preserve"],
        ["raid"] = ["id", "type", "name", "level", "devices", "spares", "preserve"],
        ["lvm_vg"] = ["id", "type", "name", "devices", "preserve"],
        ["lvm_lv"] = ["id", "type", "name", "vg", "size", "preserve"],
        ["format"] = ["id", "type", "volume", "fstype", "label", "options", "preserve"],
        ["mount"] = ["id", "type", "device", "path", "options"],
    };

    public static Layout Parse(string text, string source = "layout.yaml")
    {
        var y = new YamlReading(source, m => new LayoutException(m));
        var root = y.Root(text) ?? throw new LayoutException($"{source}: the layout is empty: it needs 'items'");
        y.CheckKeys(root, TopKeys, "a layout");
        if (YamlReading.Child(root, "version") is { } v && y.Scalar(v) != FormatVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw y.Fail(v, $"this sidus reads layout version {FormatVersion}");
        }

        var items = y.Sequence(root, "items").Select(node => Item(y, node)).ToList();
        return Layout.Validated(source, y.Optional(root, "description"), items);
    }

    private static LayoutItem Item(YamlReading y, YamlNode node)
    {
        var m = y.Mapping(node, "an item");
        var id = y.Required(m, "id", "every item");
        var type = y.Required(m, "type", $"item '{id}'");
        if (!KeysByType.TryGetValue(type, out var keys))
        {
            throw y.Fail(YamlReading.Child(m, "type")!, $"item '{id}': '{type}' is not a type (known: {string.Join(", ", KeysByType.Keys)})");
        }

        y.CheckKeys(m, keys, $"a {type} item");
        var line = YamlReading.LineOf(m);
        LayoutItem item = type switch
        {
            "disk" => new DiskItem(id, line, Match(y, m, id), Table(y, m, id)),
            "partition" => new PartitionItem(id, line, y.Required(m, "disk", $"partition '{id}'"), Size(y, m, id), Flags(y, m, id)),
            "raid" => new RaidItem(id, line, y.Optional(m, "name") ?? id, Level(y, m, id), y.Strings(m, "devices"), y.Strings(m, "spares")),
            "lvm_vg" => new VolumeGroupItem(id, line, y.Optional(m, "name") ?? id, y.Strings(m, "devices")),
            "lvm_lv" => new LogicalVolumeItem(id, line, y.Optional(m, "name") ?? id, y.Required(m, "vg", $"lvm_lv '{id}'"), Size(y, m, id)),
            "format" => new FormatItem(id, line, y.Required(m, "volume", $"format '{id}'"), FsType(y, m, id), y.Optional(m, "label"), y.Optional(m, "options")),
            _ => new MountItem(id, line, y.Required(m, "device", $"mount '{id}'"), y.Required(m, "path", $"mount '{id}'"), y.Optional(m, "options")),
        };
        return item with { Preserve = y.Flag(m, "preserve") };
    }

    private static DiskMatch Match(YamlReading y, YamlMappingNode m, string id)
    {
        if (YamlReading.Child(m, "match") is not { } node)
        {
            throw y.Fail(m, $"disk '{id}' needs 'match': serial, wwn, path (/dev/disk/by-...), size (100G-2T) or first: true");
        }

        var match = y.Mapping(node, $"disk '{id}' match");
        y.CheckKeys(match, MatchKeys, "a disk's match");
        if (match.Children.Count != 1)
        {
            throw y.Fail(match, $"disk '{id}': match by exactly one of {string.Join(", ", MatchKeys)}");
        }

        var path = y.Optional(match, "path");
        if (path is not null && !path.StartsWith("/dev/disk/by-", StringComparison.Ordinal))
        {
            throw y.Fail(match, $"disk '{id}': match path '{path}' is not stable: use a /dev/disk/by-id/ or /dev/disk/by-path/ name (sdX and nvmeXnY names change between boots)");
        }

        long? min = null, max = null;
        if (y.Optional(match, "size") is { } range)
        {
            var parts = range.Split('-', 2);
            min = parts[0].Length == 0 ? null : Bytes(y, match, parts[0], id);
            max = parts.Length < 2 || parts[1].Length == 0 ? null : Bytes(y, match, parts[1], id);
            if (min > max)
            {
                throw y.Fail(match, $"disk '{id}': size range '{range}' is empty");
            }
        }

        if (YamlReading.Child(match, "first") is not null && !y.Flag(match, "first"))
        {
            throw y.Fail(match, $"disk '{id}': 'first: false' matches nothing; write first: true or match otherwise");
        }

        return new DiskMatch { Serial = y.Optional(match, "serial"), Wwn = y.Optional(match, "wwn"), Path = path, MinBytes = min, MaxBytes = max, First = y.Flag(match, "first") };
    }

    private static long Bytes(YamlReading y, YamlNode at, string text, string id) =>
        ByteSize.TryParse(text, out var s, out var problem) && s.IsFixed ? s.Bytes : throw y.Fail(at, $"disk '{id}': {problem ?? $"'{text}' must be a size in bytes or units"}");

    private static PartitionTable Table(YamlReading y, YamlMappingNode m, string id) => y.Optional(m, "table") switch
    {
        null or "gpt" => PartitionTable.Gpt,
        "msdos" or "mbr" => PartitionTable.Msdos,
        var other => throw y.Fail(YamlReading.Child(m, "table")!, $"disk '{id}': table '{other}' is not gpt or msdos"),
    };

    private static ByteSize Size(YamlReading y, YamlMappingNode m, string id)
    {
        var text = y.Required(m, "size", $"item '{id}'");
        return ByteSize.TryParse(text, out var size, out var problem) ? size : throw y.Fail(YamlReading.Child(m, "size")!, $"item '{id}': {problem}");
    }

    private static ImmutableArray<string> Flags(YamlReading y, YamlMappingNode m, string id)
    {
        var flags = y.Strings(m, "flags");
        foreach (var f in flags.Where(f => !PartitionItem.AllFlags.Contains(f)))
        {
            throw y.Fail(YamlReading.Child(m, "flags")!, $"partition '{id}': '{f}' is not a flag (known: {string.Join(", ", PartitionItem.AllFlags)})");
        }

        return flags;
    }

    private static int Level(YamlReading y, YamlMappingNode m, string id)
    {
        var text = y.Required(m, "level", $"raid '{id}'").Replace("raid", string.Empty, StringComparison.OrdinalIgnoreCase);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var level) && RaidItem.Levels.Contains(level)
            ? level
            : throw y.Fail(YamlReading.Child(m, "level")!, $"raid '{id}': level '{text}' is not one of {string.Join(", ", RaidItem.Levels)}");
    }

    private static string FsType(YamlReading y, YamlMappingNode m, string id)
    {
        var fs = y.Required(m, "fstype", $"format '{id}'");
        return FormatItem.FsTypes.Contains(fs) ? fs : throw y.Fail(YamlReading.Child(m, "fstype")!, $"format '{id}': '{fs}' is not one of {string.Join(", ", FormatItem.FsTypes)}");
    }
}
