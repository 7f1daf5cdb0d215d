namespace Sidus.Cli.Commands.Node;

/// <summary>
/// `sidus node update` and `sidus node drift` (docs/installed-nodes.md): installed nodes brought to a version while
/// they run, or asked what changed on them, through each node's sidus-agent service.
/// </summary>
public static class NodeUpdateCommand
{
    public static Command CreateUpdate(Option<string?> db)
    {
        var targets = new Argument<string[]>("target") { Description = "Nodes (names or MACs) and groups to update", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Every installed node" };
        var to = new Option<string?>("--to") { Description = "The version: IMAGE, IMAGE@N or IMAGE:TAG of the nodes' image (default: what each node is set to boot)", HelpName = "IMAGE@VER" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List every change and the drift, change nothing" };
        var noDelete = new Option<bool>("--no-delete") { Description = "Leave files the version does not have" };
        var keepDrift = new Option<bool>("--keep-drift") { Description = "Leave files changed on the node since its last sync as they are" };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "A path the update leaves alone, besides the built-in ones, the image's and the inventory's (repeatable)",
            HelpName = "PATH",
            AllowMultipleArgumentsPerToken = false,
        };
        var reboot = new Option<bool>("--reboot") { Description = "Reboot each node whose update needs it (kernel, initramfs, systemd, libc) once it is complete and reported" };
        var parallel = new Option<int>("--parallel") { Description = "Nodes updated at once", DefaultValueFactory = _ => 10, HelpName = "N" };
        var wait = Wait(600);
        var json = GlobalOptions.Json();
        var cmd = new Command("update", """
            Bring installed nodes to a version while they run, moving only what changed: each node's sidus-agent
            service fetches the version's manifest and only the contents its disk lacks (checked by SHA-256), writes
            each changed file beside its target and renames it over it (metadata set first), deletes what the version
            no longer has after the new files are in place, then applies the node's overrides again. Files changed on
            the node since its last sync (drift) are listed before they are overwritten (--keep-drift leaves them).
            Never touched: /home, /tmp, /var/log, the node's machine state and keys, fstab, its overrides, other
            filesystems (a preserved /data), the paths listed in the version's /etc/sidus/update.exclude, the node's
            update excludes (`sidus node set|group set --update-exclude`, `update-excludes:` of the defaults in
            `sidus apply -f`: node, groups and defaults add up) and each --exclude; --dry-run and --json list them
            with where each comes from. Says per node what changed, the bytes moved, the drift
            and whether a reboot is needed (kernel, initramfs, systemd, libc); --reboot reboots those nodes (systemctl
            reboot, after the result is sent). An interrupted update leaves every file
            old or new, and the next one completes it. The server must be running.
            Exit codes: 0 every node updated, 1 a node failed, refused or did not answer, 2 no such node or version.
            """)
        {
            targets, all, to, dryRun, noDelete, keepDrift, exclude, reboot, parallel, wait, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snapshot = await store.LoadAsync(ct);
            var (nodes, unknown) = NodeJobsCli.Select(snapshot, r.GetValue(targets) ?? [], r.GetValue(all));
            if (unknown.Count > 0)
            {
                return InventoryCli.Error($"no node or group is named '{unknown[0]}' (`sidus node list`, `sidus group list`)", InventoryCli.NotFound);
            }

            if (nodes.Count == 0)
            {
                return InventoryCli.Error(r.GetValue(all) ? "no node is installed" : "name the nodes or groups to update, or --all");
            }

            var commandExcludes = r.GetValue(exclude) ?? [];
            if (commandExcludes.Select(ExcludePath.Problem).FirstOrDefault(p => p is not null) is { } badExclude)
            {
                return InventoryCli.Error("--exclude: " + badExclude);
            }

            var home = GlobalOptions.ResolveHome(r);
            var imageLists = new Dictionary<string, (List<string> Paths, string? Problem)>(StringComparer.Ordinal);
            var excludesOf = new Dictionary<string, List<(string Path, string From)>>(StringComparer.Ordinal);
            (string Id, string Ref)? wanted = null;
            if (r.GetValue(to) is { } spec)
            {
                wanted = NodeJobsCli.Resolve(home, spec, out var problem);
                if (wanted is null)
                {
                    return InventoryCli.Error($"--to {spec}: {problem}", InventoryCli.NotFound);
                }
            }

            (NodeJob?, string?) JobOf(Sidus.Nodes.Node node)
            {
                if (snapshot.Installed(node.Name) is null)
                {
                    return (null, $"not installed (mode {snapshot.Resolve(node).Mode.Value.ToText()}): nothing to update");
                }

                var image = snapshot.Resolve(node).Image.Value;
                var target = wanted ?? (image is null ? null : NodeJobsCli.Resolve(home, image, out _));
                if (target is not { } version)
                {
                    return (null, $"its image {image ?? "(none)"} cannot be resolved in this store");
                }

                if (image is not null && version.Ref.Split('@')[0] != image.Split('@', ':')[0])
                {
                    return (null, $"--to names image {version.Ref.Split('@')[0]}, the node boots {image}: its key opens only its own image (sidus node set {node.Name} --image ...)");
                }

                if (!imageLists.TryGetValue(version.Id, out var imageList))
                {
                    imageList = imageLists[version.Id] = ImageExcludes(home, version);
                }

                if (imageList.Problem is { } problem)
                {
                    return (null, problem);
                }

                // The version's own list, the inventory's (node, groups, defaults), the command's: each path once.
                var excludes = excludesOf[node.Name] = imageList.Paths.Select(p => (p, $"image {version.Ref}"))
                    .Concat(snapshot.Resolve(node).UpdateExcludes.Select(x => (x.Value, x.Origin)))
                    .Concat(commandExcludes.Select(p => (p, "--exclude")))
                    .DistinctBy(x => x.Item1, StringComparer.Ordinal).ToList();
                return (new NodeJob(NodeJob.Update, 0, version.Id, version.Ref, r.GetValue(dryRun), r.GetValue(noDelete), r.GetValue(keepDrift),
                    [.. excludes.Select(x => x.Path)], Reboot: r.GetValue(reboot)), null);
            }

            return await RunAsync(store, nodes, JobOf, Math.Max(1, r.GetValue(parallel)), r.GetValue(wait), r.GetValue(json), ct,
                excludesOf: excludesOf, listExcludes: r.GetValue(dryRun));
        }));
        return cmd;
    }

    public static Command CreateDrift(Option<string?> db)
    {
        var targets = new Argument<string[]>("target") { Description = "Nodes (names or MACs) and groups to ask", Arity = ArgumentArity.OneOrMore };
        var wait = Wait(120);
        var json = GlobalOptions.Json();
        var cmd = new Command("drift", """
            Report the files changed on installed nodes since they were installed or last updated (added, removed,
            modified, metadata), without changing anything: each node's agent compares its disk with the record its
            last sync left. The update's excludes are not reported. The server must be running.
            Exit codes: 0 every node answered, 1 a node failed or did not answer, 2 no such node.
            """)
        {
            targets, wait, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snapshot = await store.LoadAsync(ct);
            var (nodes, unknown) = NodeJobsCli.Select(snapshot, r.GetValue(targets)!, all: false);
            if (unknown.Count > 0)
            {
                return InventoryCli.Error($"no node or group is named '{unknown[0]}' (`sidus node list`, `sidus group list`)", InventoryCli.NotFound);
            }

            (NodeJob?, string?) JobOf(Sidus.Nodes.Node node) => snapshot.Installed(node.Name) is null
                ? (null, $"not installed (mode {snapshot.Resolve(node).Mode.Value.ToText()})")
                : (new NodeJob(NodeJob.Drift, 0), null);
            return await RunAsync(store, nodes, JobOf, nodes.Count, r.GetValue(wait), r.GetValue(json), ct, listDrift: true);
        }));
        return cmd;
    }

    private static Option<int> Wait(int seconds) => new("--wait")
    {
        Description = "Seconds to wait for each node's answer",
        DefaultValueFactory = _ => seconds,
        HelpName = "SECONDS",
    };

    private static async Task<int> RunAsync(
        Sidus.Nodes.Storage.InventoryStore store, List<Sidus.Nodes.Node> nodes, Func<Sidus.Nodes.Node, (NodeJob?, string?)> jobOf, int parallel, int wait, bool json,
        CancellationToken ct, bool listDrift = false, Dictionary<string, List<(string Path, string From)>>? excludesOf = null, bool listExcludes = false)
    {
        var outcomes = await NodeJobsCli.RunAsync(store, nodes, jobOf, parallel, TimeSpan.FromSeconds(Math.Max(1, wait)), o =>
        {
            if (json)
            {
                return;
            }

            Console.Out.WriteLine(listDrift && o.Result is { } d ? DriftLine(o.Node, d) : NodeJobsCli.Line(o));
            foreach (var item in o.Result?.Drift ?? [])
            {
                Console.Out.WriteLine($"  {item.Kind,-8} {item.Path}");
            }

            foreach (var (path, from) in listExcludes ? excludesOf?.GetValueOrDefault(o.Node) ?? [] : [])
            {
                Console.Out.WriteLine($"  {"excluded",-8} {path} ({from})");
            }
        }, ct);
        if (json)
        {
            InventoryJson.Print(new JsonArray([.. outcomes.Select(o => (JsonNode?)new JsonObject
            {
                ["node"] = o.Node,
                ["succeeded"] = o.Succeeded,
                ["message"] = o.Message,
                ["result"] = o.Result is null ? null : JsonNode.Parse(o.Result.ToJson()),
                ["excludes"] = excludesOf is null ? null : new JsonArray([.. (excludesOf.GetValueOrDefault(o.Node) ?? [])
                    .Select(x => (JsonNode?)new JsonObject { ["path"] = x.Path, ["from"] = x.From })]),
            })]));
        }

        return outcomes.All(o => o.Succeeded) ? InventoryCli.Ok : InventoryCli.Usage;
    }

    /// <summary>
    /// The paths VERSION's <see cref="UpdateExcludes.ImageListPath"/> lists (none without the file), or why the nodes
    /// to bring there are not asked: a path the update would refuse, a file too large to be a list.
    /// </summary>
    private static (List<string> Paths, string? Problem) ImageExcludes(string home, (string Id, string Ref) version)
    {
        try
        {
            using var repository = Repository.Open(home);
            var paths = ImageListFile.Read(repository, Sidus.Store.Objects.ObjectId.Parse(version.Id), UpdateExcludes.ImageListPath);
            return paths.Select(ExcludePath.Problem).FirstOrDefault(p => p is not null) is { } problem
                ? ([], $"{version.Ref}'s {UpdateExcludes.ImageListPath}: {problem}")
                : (paths, null);
        }
        catch (StoreException e)
        {
            return ([], $"{version.Ref}: {e.Message}");
        }
    }

    private static string DriftLine(string node, NodeUpdateResult r) =>
        !r.DriftKnown ? $"{node}: drift unknown: no record of its last sync" :
        r.Drift.Count == 0 ? $"{node}: no drift since {r.Ref ?? "its last sync"}" : $"{node}: {r.Drift.Count} changed since {r.Ref ?? "its last sync"}:";
}
