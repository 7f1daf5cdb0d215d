namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node status`: where each machine's latest boot got to, and how long each stage took.</summary>
public static class NodeStatusCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Only these nodes", Arity = ArgumentArity.ZeroOrMore };
        var json = GlobalOptions.Json();
        var cmd = new Command("status", """
            Show the latest boot of each node: the last stage reached (dhcp, tftp, script, kernel, agent, root, up,
            error), when, the image version it runs (reported by the agent and the booted system), the RAM it uses
            (MemTotal - MemAvailable from the booted node's /proc/meminfo, with Shmem: a ram-mode root lives there),
            and the time from the boot's DHCP to each stage. Nodes that never reported show '-'. --json adds the
            "up" report: host, image, machine-id, SSH ed25519 fingerprint and memory figures in KiB. Below the
            table: each node's credential alarms (a boot ticket claimed twice: someone else may have read it) and
            when its credentials were last revoked (`sidus node revoke`); --json gives them as "access".
            """)
        {
            names, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);

            // Event text came from the network: cleaned when stored, and again here for rows stored before that.
            var status = (await store.GetBootStatusAsync(ct)).Select(Clean).ToList();
            var access = (await store.GetAccessRecordsAsync(ct)).ToDictionary(a => a.Node, StringComparer.Ordinal);
            var wanted = (r.GetValue(names) ?? []).Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            foreach (var w in wanted.Where(w => snap.FindNode(w) is null))
            {
                return InventoryCli.Error($"no node is named '{w}'", InventoryCli.NotFound);
            }

            var rows = status.Where(s => wanted.Count == 0 || (s.Node is not null && wanted.Contains(s.Node)))
                .Select(s => (Name: s.Node, Mac: (MacAddress?)s.Mac, Status: (NodeBootStatus?)s)).ToList();
            var reported = status.Where(s => s.Node is not null).Select(s => s.Node!).ToHashSet(StringComparer.Ordinal);
            rows.AddRange(snap.Nodes.Where(n => !reported.Contains(n.Name) && (wanted.Count == 0 || wanted.Contains(n.Name)))
                .Select(n => ((string?)n.Name, (MacAddress?)n.Macs[0], (NodeBootStatus?)null)));
            rows = [.. rows.OrderBy(x => x.Name ?? "~" + x.Mac, StringComparer.Ordinal)];

            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. rows.Select(x => (JsonNode?)new JsonObject
                {
                    ["node"] = x.Name,
                    ["mac"] = x.Mac?.ToString(),
                    ["stage"] = x.Status?.Latest.Stage.ToText(),
                    ["at"] = x.Status?.Latest.At.ToString("O", CultureInfo.InvariantCulture),
                    ["detail"] = x.Status?.Latest.Detail,
                    ["image"] = x.Status?.Image,
                    ["up"] = x.Status?.Up is { } up ? Up(up) : null,
                    ["access"] = x.Name is not null && access.TryGetValue(x.Name, out var a) ? Access(a) : null,
                    ["stages"] = new JsonArray([.. (x.Status?.Stages ?? []).Select(s => (JsonNode?)new JsonObject
                    {
                        ["stage"] = s.Stage.ToText(),
                        ["at"] = s.At.ToString("O", CultureInfo.InvariantCulture),
                        ["sinceStartMs"] = (long)s.SinceStart.TotalMilliseconds,
                        ["detail"] = s.Detail,
                    })]),
                })]));
                return InventoryCli.Ok;
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine("no nodes and no boot reports yet");
                return InventoryCli.Ok;
            }

            var table = new TextTable("NODE", "MAC", "STAGE", "AT", "IMAGE", "RAM USED", "STAGES (time since DHCP)", "DETAIL");
            foreach (var (name, mac, s) in rows)
            {
                table.AddRow(
                    name ?? "(unknown)", mac?.ToString() ?? "-", s?.Latest.Stage.ToText() ?? "-",
                    s?.Latest.At.ToString("u", CultureInfo.InvariantCulture) ?? "-",
                    s is null ? "-" : Short(s.Image),
                    s is null ? "-" : Used(s.Up),
                    s is null ? "-" : string.Join(",", s.Stages.Select(t => $"{t.Stage.ToText()}+{t.SinceStart.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s")),
                    s?.Latest.Detail ?? "");
            }

            table.Write();
            foreach (var (name, _, _) in rows)
            {
                if (name is null || !access.TryGetValue(name, out var a))
                {
                    continue;
                }

                if (a.Alarm is { } alarm)
                {
                    Console.Out.WriteLine($"ALARM {name} ({a.Alarms} in all, latest {a.AlarmAt:u}): {alarm}");
                }

                if (a.RevokedAt is { } revoked)
                {
                    Console.Out.WriteLine($"revoked {name}: credentials issued before {revoked:u} are refused");
                }
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }

    private static NodeBootStatus Clean(NodeBootStatus s)
    {
        var stages = s.Stages.Select(t => t with { Detail = EventText.Clean(t.Detail), Image = EventText.Clean(t.Image), Up = EventText.Clean(t.Up) }).ToList();
        var latest = stages[s.Stages.ToList().IndexOf(s.Latest)];
        return s with { Stages = stages, Latest = latest };
    }

    private static string Short(string? version) => version is null ? "-" : version.Length > 12 ? version[..12] : version;

    /// <summary>MemTotal - MemAvailable as the booted node reported it, in MiB, with shmem (the RAM root) beside.</summary>
    private static string Used(UpReport? up) =>
        up?.MemUsedKib is { } used ? $"{used / 1024} MiB (shmem {(up.ShmemKib ?? 0) / 1024})" : "-";

    /// <summary>A node's credential record for scripts: its latest alarm, how many, and its latest revocation.</summary>
    private static JsonObject Access(NodeAccessRecord a) => new()
    {
        ["alarm"] = a.Alarm,
        ["alarmAt"] = a.AlarmAt?.ToString("O", CultureInfo.InvariantCulture),
        ["alarms"] = a.Alarms,
        ["revokedAt"] = a.RevokedAt?.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>The "up" report's fields for scripts: identity, and memory in KiB with the used figure worked out.</summary>
    private static JsonObject Up(UpReport up) => new()
    {
        ["host"] = up.Host,
        ["image"] = up.Image,
        ["imageRef"] = up.ImageRef,
        ["machineId"] = up.MachineId,
        ["sshEd25519"] = up.SshEd25519,
        ["memory"] = new JsonObject
        {
            ["totalKib"] = up.MemTotalKib,
            ["availableKib"] = up.MemAvailableKib,
            ["shmemKib"] = up.ShmemKib,
            ["usedKib"] = up.MemUsedKib,
        },
    };
}
