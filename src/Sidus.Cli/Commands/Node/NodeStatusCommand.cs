using BootStatusJson = Sidus.Nodes.Json.BootStatusJson;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node status`: where each machine's latest boot got to, and how long each stage took.</summary>
public static class NodeStatusCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Only these nodes", Arity = ArgumentArity.ZeroOrMore };
        var json = GlobalOptions.Json();
        var watch = new Option<bool>("--watch", "-w")
        {
            Description = "Keep showing the status until Ctrl-C: redrawn in place on a terminal; piped (or --plain), the header once and then each row again when it changes (with --json: each changed row as one JSON line)",
        };
        var interval = new Option<int>("--interval")
        {
            Description = "With --watch: seconds between two looks at the inventory",
            DefaultValueFactory = _ => 2,
            HelpName = "SECONDS",
        };
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
            names, json, watch, interval,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            var wanted = (r.GetValue(names) ?? []).Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            foreach (var w in wanted.Where(w => snap.FindNode(w) is null))
            {
                return InventoryCli.Error($"no node is named '{w}'", InventoryCli.NotFound);
            }

            if (r.GetValue(watch))
            {
                var seconds = r.GetValue(interval);
                if (seconds is < 1 or > 3600)
                {
                    return InventoryCli.Error($"--interval {seconds}: give whole seconds from 1 to 3600");
                }

                await NodeStatusWatch.RunAsync(() => ReadAsync(store, wanted, ct), TimeSpan.FromSeconds(seconds), r.GetValue(json), ct);
                return InventoryCli.Ok;
            }

            var (rows, access) = await ReadAsync(store, wanted, ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. rows.Select(x => (JsonNode?)Json(x, access))]));
                return InventoryCli.Ok;
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine("no nodes and no boot reports yet");
                return InventoryCli.Ok;
            }

            Table(rows).Write();
            foreach (var line in AccessLines(rows, access))
            {
                Console.Out.WriteLine(line);
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }

    /// <summary>One row of the table: a node (or an unknown MAC that reported) and its latest boot, if any.</summary>
    public sealed record Row(string? Name, MacAddress? Mac, NodeBootStatus? Status, InstalledRecord? Installed = null)
    {
        /// <summary>The row's identity across polls of --watch.</summary>
        public string Key => Name ?? "~" + Mac;
    }

    /// <summary>The rows for the WANTED nodes (all when empty), ordered by name, and the nodes' credential records.</summary>
    public static async Task<(List<Row> Rows, Dictionary<string, NodeAccessRecord> Access)> ReadAsync(
        Sidus.Nodes.Storage.InventoryStore store, IReadOnlySet<string> wanted, CancellationToken ct)
    {
        var snap = await store.LoadAsync(ct);
        var access = (await store.GetAccessRecordsAsync(ct)).ToDictionary(a => a.Node, StringComparer.Ordinal);
        var rows = BootStatusJson.Rows(snap, await store.GetBootStatusAsync(ct), wanted).Select(x => new Row(x.Name, x.Mac, x.Status, x.Name is null ? null : snap.Installed(x.Name))).ToList();
        return (rows, access);
    }

    public static TextTable Table(IEnumerable<Row> rows)
    {
        var table = new TextTable("NODE", "MAC", "STAGE", "AT", "IMAGE", "DISK", "RAM USED", "STAGES (time since DHCP)", "DETAIL");
        foreach (var row in rows)
        {
            table.AddRow(Cells(row));
        }

        return table;
    }

    public static string?[] Cells(Row row)
    {
        var (name, mac, s, installed) = row;
        return
        [
            name ?? "(unknown)", mac?.ToString() ?? "-", s?.Latest.Stage.ToText() ?? "-",
            s?.Latest.At.ToString("u", CultureInfo.InvariantCulture) ?? "-",
            s is null ? "-" : Short(s.Image),
            installed is null ? "-" : "installed " + installed.ImageRef,
            s is null ? "-" : Used(s.Up),
            s is null ? "-" : string.Join(",", s.Stages.Select(t => $"{t.Stage.ToText()}+{t.SinceStart.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s")),
            s?.Latest.Detail ?? "",
        ];
    }

    /// <summary>The row as `--json` prints it and the API answers it (one shape, <see cref="BootStatusJson"/>).</summary>
    public static JsonObject Json(Row x, IReadOnlyDictionary<string, NodeAccessRecord> access) =>
        BootStatusJson.Row(x.Name, x.Mac, x.Status, x.Name is not null && access.TryGetValue(x.Name, out var a) ? a : null, x.Installed);

    /// <summary>The lines below the table: each node's credential alarm and latest revocation.</summary>
    public static IEnumerable<string> AccessLines(IEnumerable<Row> rows, IReadOnlyDictionary<string, NodeAccessRecord> access)
    {
        foreach (var row in rows)
        {
            if (row.Name is not { } name || !access.TryGetValue(name, out var a))
            {
                continue;
            }

            if (a.Alarm is { } alarm)
            {
                yield return $"ALARM {name} ({a.Alarms} in all, latest {a.AlarmAt:u}): {alarm}";
            }

            if (a.RevokedAt is { } revoked)
            {
                yield return $"revoked {name}: credentials issued before {revoked:u} are refused";
            }
        }
    }

    private static string Short(string? version) => version is null ? "-" : version.Length > 12 ? version[..12] : version;

    /// <summary>MemTotal - MemAvailable as the booted node reported it, in MiB, with shmem (the RAM root) beside.</summary>
    private static string Used(UpReport? up) =>
        up?.MemUsedKib is { } used ? $"{used / 1024} MiB (shmem {(up.ShmemKib ?? 0) / 1024})" : "-";
}
