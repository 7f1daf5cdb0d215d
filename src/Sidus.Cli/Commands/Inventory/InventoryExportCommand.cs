using Sidus.Nodes.Yaml;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>`sidus export`: the whole inventory as a cluster.yaml that `sidus apply` takes back.</summary>
public static class InventoryExportCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE (replaced atomically) instead of standard output", HelpName = "FILE" };
        var cmd = new Command("export", """
            Write the inventory (defaults, networks, groups, nodes) as YAML. `sidus apply -f` of that file on an
            empty inventory recreates it, so the inventory can live in git.
            """)
        {
            db, output,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var yaml = InventoryYaml.Write(InventoryDocument.FromSnapshot(await store.LoadAsync(ct)));
            if (r.GetValue(output) is { } path)
            {
                var full = Path.GetFullPath(path);
                AtomicFile.WriteText(full, yaml);
                Console.Error.WriteLine($"exported to {full}");
            }
            else
            {
                await Console.Out.WriteAsync(yaml);
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
