using System.Text.Json.Nodes;

namespace Sidus.Nodes.Json;

/// <summary>
/// A node's latest boot as `sidus node status --json` prints it and GET /api/nodes/{name}/status answers: the stage
/// reached, every stage with its time since DHCP, the "up" report and the node's credential record.
/// </summary>
public static class BootStatusJson
{
    /// <summary>One row: a node (NAME, or null for a machine not in the inventory) with its boot STATUS, if any.</summary>
    /// <param name="installed">What the node's disk holds when it is an installed node.</param>
    public static JsonObject Row(string? name, MacAddress? mac, NodeBootStatus? status, NodeAccessRecord? access, InstalledRecord? installed = null) => new()
    {
        ["node"] = name,
        ["mac"] = mac?.ToString(),
        ["stage"] = status?.Latest.Stage.ToText(),
        ["at"] = status?.Latest.At.ToString("O", CultureInfo.InvariantCulture),
        ["detail"] = status?.Latest.Detail,
        ["image"] = status?.Image,
        ["up"] = status?.Up is { } up ? Up(up) : null,
        ["access"] = access is null ? null : Access(access),
        ["installed"] = installed is null ? null : Installed(installed),
        ["stages"] = new JsonArray([.. (status?.Stages ?? []).Select(s => (JsonNode?)new JsonObject
        {
            ["stage"] = s.Stage.ToText(),
            ["at"] = s.At.ToString("O", CultureInfo.InvariantCulture),
            ["sinceStartMs"] = (long)s.SinceStart.TotalMilliseconds,
            ["detail"] = s.Detail,
        })]),
    };

    /// <summary>
    /// The rows `node status` shows, in name order: every boot reported (of the WANTED nodes, or all when empty),
    /// then the wanted nodes that never reported, each with its first MAC. Event text cleaned.
    /// </summary>
    public static List<(string? Name, MacAddress? Mac, NodeBootStatus? Status)> Rows(
        InventorySnapshot snapshot, IEnumerable<NodeBootStatus> reports, IReadOnlySet<string> wanted)
    {
        var status = reports.Select(Clean).ToList();
        var rows = status.Where(s => wanted.Count == 0 || (s.Node is not null && wanted.Contains(s.Node)))
            .Select(s => (Name: s.Node, Mac: (MacAddress?)s.Mac, Status: (NodeBootStatus?)s)).ToList();
        var reported = status.Where(s => s.Node is not null).Select(s => s.Node!).ToHashSet(StringComparer.Ordinal);
        rows.AddRange(snapshot.Nodes.Where(n => !reported.Contains(n.Name) && (wanted.Count == 0 || wanted.Contains(n.Name)))
            .Select(n => ((string?)n.Name, (MacAddress?)n.Macs[0], (NodeBootStatus?)null)));
        return [.. rows.OrderBy(x => x.Name ?? "~" + x.Mac, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Event text came from the network: cleaned when stored, and again when shown for rows stored before that.
    /// </summary>
    public static NodeBootStatus Clean(NodeBootStatus s)
    {
        var stages = s.Stages.Select(t => t with { Detail = EventText.Clean(t.Detail), Image = EventText.Clean(t.Image), Up = EventText.Clean(t.Up) }).ToList();
        var latest = stages[s.Stages.ToList().IndexOf(s.Latest)];
        return s with { Stages = stages, Latest = latest };
    }

    /// <summary>An installed node's disk: the version it matches (id and IMAGE@SEQ), when installed and last updated.</summary>
    public static JsonObject Installed(InstalledRecord i) => new()
    {
        ["version"] = i.Version,
        ["imageRef"] = i.ImageRef,
        ["installedAt"] = i.InstalledAt.ToString("O", CultureInfo.InvariantCulture),
        ["updatedAt"] = i.UpdatedAt?.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>A node's credential record for scripts: its latest alarm, how many, and its latest revocation.</summary>
    public static JsonObject Access(NodeAccessRecord a) => new()
    {
        ["alarm"] = a.Alarm,
        ["alarmAt"] = a.AlarmAt?.ToString("O", CultureInfo.InvariantCulture),
        ["alarms"] = a.Alarms,
        ["revokedAt"] = a.RevokedAt?.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>The "up" report's fields for scripts: identity, and memory in KiB with the used figure worked out.</summary>
    public static JsonObject Up(UpReport up) => new()
    {
        ["host"] = up.Host,
        ["image"] = up.Image,
        ["imageRef"] = up.ImageRef,
        ["machineId"] = up.MachineId,
        ["sshEd25519"] = up.SshEd25519,
        ["root"] = up.Root,
        ["lower"] = up.Lower,
        ["upper"] = up.Upper,
        ["boot"] = up.Boot,
        ["memory"] = new JsonObject
        {
            ["totalKib"] = up.MemTotalKib,
            ["availableKib"] = up.MemAvailableKib,
            ["shmemKib"] = up.ShmemKib,
            ["usedKib"] = up.MemUsedKib,
        },
    };
}
