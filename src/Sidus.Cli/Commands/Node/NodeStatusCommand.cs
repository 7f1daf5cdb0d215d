using BootStatusJson = Sidus.Nodes.Json.BootStatusJson;
using Spectre.Console;

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

            var status = await store.GetBootStatusAsync(ct);
            var access = (await store.GetAccessRecordsAsync(ct)).ToDictionary(a => a.Node, StringComparer.Ordinal);
            var wanted = (r.GetValue(names) ?? []).Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            foreach (var w in wanted.Where(w => snap.FindNode(w) is null))
            {
                return InventoryCli.Error($"no node is named '{w}'", InventoryCli.NotFound);
            }

            var rows = BootStatusJson.Rows(snap, status, wanted);

            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. rows.Select(x => (JsonNode?)BootStatusJson.Row(
                    x.Name, x.Mac, x.Status, x.Name is not null && access.TryGetValue(x.Name, out var a) ? a : null))]));
                return InventoryCli.Ok;
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine("no nodes and no boot reports yet");
                return InventoryCli.Ok;
            }

            var table = new Table().AddColumns("NODE", "MAC", "STAGE", "AT", "IMAGE", "RAM USED", "STAGES (time since DHCP)", "DETAIL");
            foreach (var (name, mac, s) in rows)
            {
                table.AddRow(
                    Markup.Escape(name ?? "(unknown)"), mac?.ToString() ?? "-", s?.Latest.Stage.ToText() ?? "-",
                    s?.Latest.At.ToString("u", CultureInfo.InvariantCulture) ?? "-",
                    s is null ? "-" : Markup.Escape(Short(s.Image)),
                    s is null ? "-" : Used(s.Up),
                    s is null ? "-" : string.Join(" ", s.Stages.Select(t => $"{t.Stage.ToText()}+{t.SinceStart.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s")),
                    Markup.Escape(s?.Latest.Detail ?? ""));
            }

            AnsiConsole.Write(table);
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

    private static string Short(string? version) => version is null ? "-" : version.Length > 12 ? version[..12] : version;

    /// <summary>MemTotal - MemAvailable as the booted node reported it, in MiB, with shmem (the RAM root) beside.</summary>
    private static string Used(UpReport? up) =>
        up?.MemUsedKib is { } used ? $"{used / 1024} MiB (shmem {(up.ShmemKib ?? 0) / 1024})" : "-";
}
