using Sidus.Nodes.Storage;

namespace Sidus.Cli.Commands.Node;

/// <summary>
/// `sidus node capture NODE [--to IMAGE] [--dry-run] [--yes]`: what a shared-mode node changed in its overlay, as a
/// new version of its image (docs/capture.md). Asks the node's agent twice through the job the server serves: first a
/// dry run whose changes are shown, then, once confirmed, the capture itself.
/// </summary>
public static class NodeCaptureCommand
{
    public static Command Create(Option<string?> db)
    {
        var target = new Argument<string>("node") { Description = "The node (name or MAC): a shared-mode node, up, with its sidus-agent service" };
        var to = new Option<string?>("--to") { Description = "The image the new version goes to (default: the image the node booted; needed when that image has a newer version since)", HelpName = "IMAGE" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only list the changes; record nothing" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Record without asking after the list of changes (needed when standard input is not a terminal)" };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for each of the node's answers", DefaultValueFactory = _ => 300, HelpName = "SECONDS" };
        var json = GlobalOptions.Json();
        var cmd = new Command("capture", """
            Make what a shared-mode node changed in its overlay (tmpfs or disk) a new
            version of its image: files it wrote, and files it deleted (overlayfs
            whiteouts), laid over the version it booted. The changes are listed first;
            the version is recorded after confirmation (or --yes). The node's agent
            sends its overlay to `sidus serve`, which must be running. Exit codes: 0
            recorded (or listed), 1 refused or failed, 2 no such node.
            """)
        {
            target, to, dryRun, yes, wait, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snapshot = await store.LoadAsync(ct);
            if (InventoryCli.FindNodeByNameOrMac(snapshot, r.GetValue(target)!) is not { } node)
            {
                return InventoryCli.Error($"no node is named '{r.GetValue(target)}' (`sidus node list`)", InventoryCli.NotFound);
            }

            var mode = snapshot.Resolve(node).Mode.Value;
            if (mode is not (BootMode.Shared or BootMode.Ram))
            {
                return InventoryCli.Error($"{node.Name} runs in mode {mode.ToText()}: only a diskless node has an overlay to capture (an installed machine: `sidus image capture IMAGE ssh://...`)");
            }

            var into = r.GetValue(to);
            if (into is not null)
            {
                Sidus.Store.Refs.RefStore.ValidateName(into, "image");
            }

            var limit = TimeSpan.FromSeconds(Math.Max(1, r.GetValue(wait)));
            var asJson = r.GetValue(json);
            var preview = await AskAsync(store, node.Name, new NodeJob(NodeJob.Capture, 0, DryRun: true, Into: into), limit, ct);
            if (preview.Problem is { } problem)
            {
                return InventoryCli.Error($"{node.Name}: {problem}");
            }

            var changes = preview.Answer!["changes"]?.AsArray() ?? [];
            var total = preview.Answer["changes_total"]?.GetValue<int>() ?? changes.Count;
            if (!asJson)
            {
                foreach (var change in changes)
                {
                    Console.Out.WriteLine(ChangeLine(change!));
                }

                if (total > changes.Count)
                {
                    Console.Out.WriteLine($"... and {total - changes.Count} more");
                }

                Console.Error.WriteLine($"{node.Name}: {preview.Answer["summary"]}");
            }

            if (r.GetValue(dryRun) || total == 0)
            {
                if (asJson)
                {
                    InventoryJson.Print(preview.Answer);
                }

                return 0;
            }

            if (!r.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    return InventoryCli.Error("give --yes to record these changes without being asked (standard input is not a terminal)");
                }

                Console.Error.Write($"Record these {total} changes as a new version of {into ?? "the node's image"}? [y/N] ");
                if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                {
                    Console.Error.WriteLine("nothing recorded");
                    return 1;
                }
            }

            var captured = await AskAsync(store, node.Name, new NodeJob(NodeJob.Capture, 0, Into: into), limit, ct);
            if (captured.Problem is { } failed)
            {
                return InventoryCli.Error($"{node.Name}: {failed}");
            }

            if (asJson)
            {
                InventoryJson.Print(captured.Answer!);
            }
            else
            {
                Console.Out.WriteLine($"{node.Name}: {captured.Answer!["summary"]}");
            }

            return 0;
        }));
        return cmd;
    }

    private static async Task<(JsonObject? Answer, string? Problem)> AskAsync(InventoryStore store, string node, NodeJob job, TimeSpan limit, CancellationToken ct)
    {
        if (await NodeJobsCli.AskAsync(store, node, job, limit, ct) is not { } record)
        {
            return (null, $"no answer within {limit.TotalSeconds:0} s: is it up, is `sidus serve` running, does its sidus-agent service run? (sidus node status {node})");
        }

        if (record.Succeeded != true)
        {
            return (null, (record.Result ?? "failed").Trim());
        }

        try
        {
            return (JsonNode.Parse(record.Result ?? string.Empty)!.AsObject(), null);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            return (null, "the answer is not the server's capture report: " + record.Result);
        }
    }

    private static string ChangeLine(JsonNode change)
    {
        var mark = change["change"]?.GetValue<string>() switch { "added" => "+", "removed" => "-", _ => "M" };
        var path = change["path"]?.GetValue<string>() ?? "?";
        var suffix = change["type"]?.GetValue<string>() == "directory" && path != "/" ? "/" : string.Empty;
        var what = change["what"]?.AsArray().Select(w => w!.GetValue<string>()).ToList() ?? [];
        return what.Count == 0 ? $"{mark} {path}{suffix}" : $"{mark} {path}{suffix}  ({string.Join(", ", what)})";
    }
}
