using Sidus.Nodes.Yaml;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>`sidus apply -f cluster.yaml`: make the inventory match a file, in one transaction.</summary>
public static class ApplyCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var file = new Option<string>("--file", "-f")
        {
            Description = "The cluster.yaml to apply ('-' reads standard input); `sidus export` writes one",
            HelpName = "FILE",
            Required = true,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be added, changed and removed; change nothing" };
        var prune = new Option<bool>("--prune")
        {
            Description = "Also remove nodes, groups, networks and layouts the file does not list (and clear defaults it does not set)",
        };
        var cmd = new Command("apply", """
            Make the inventory match a cluster.yaml: add and change the layouts, groups, nodes, networks and
            defaults it lists, all in one transaction (nothing changes if any part is refused). Prints each
            change. Layouts (`layouts:`, NAME: the layout inline, or file: PATH relative to the cluster file)
            are stored before the groups and nodes that name them; a changed layout gets a new revision.
            Exit codes: 0 applied (or nothing to do), 1 invalid file, 2 a named group or layout does not
            exist, 3 conflict.
            """)
        {
            db, file, dryRun, prune,
        };
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var path = r.GetValue(file)!;
            if (await InventoryCli.ReadInputAsync(path, ct) is not ({ } text, { } shown))
            {
                return InventoryCli.Usage;
            }

            return await InventoryCli.RunAsync(r, db, ct, async store =>
            {
                var doc = InventoryYaml.Parse(text, shown, f => ReadLayoutFile(path, f));
                var plan = await InventoryApplier.ApplyAsync(store, doc, r.GetValue(prune), r.GetValue(dryRun), ct);
                foreach (var line in plan.Describe())
                {
                    Console.Out.WriteLine(line);
                }

                if (!r.GetValue(dryRun))
                {
                    InventoryCli.WarnAboutOverrideFolders(r, db, await store.LoadAsync(ct));
                }

                return InventoryCli.Ok;
            });
        });
        return cmd;
    }

    /// <summary>A `file:` of the layouts map: relative to the cluster file's directory (the current one for stdin).</summary>
    private static (string Text, string Source) ReadLayoutFile(string clusterFile, string file)
    {
        var dir = clusterFile == "-" ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(clusterFile))!;
        var full = Path.Combine(dir, file);
        try
        {
            return (File.ReadAllText(full), Path.IsPathRooted(file) ? file : Path.GetRelativePath(Directory.GetCurrentDirectory(), full));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException(InventoryErrorKind.Invalid, $"{clusterFile}: layouts: cannot read {full}: {e.Message}", e);
        }
    }
}
