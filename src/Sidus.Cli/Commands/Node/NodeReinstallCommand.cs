namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node reinstall NAME...`: the nodes' next network boot installs their image again (docs/installed-nodes.md).</summary>
public static class NodeReinstallCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Nodes to install again", Arity = ArgumentArity.OneOrMore };
        var json = GlobalOptions.Json();
        var cmd = new Command("reinstall", """
            Install the nodes again at their next network boot: Sidus forgets that their disks hold a version, so
            the boot script installs instead of booting the disk. A node not in mode install is set to it. What the
            layout preserves survives; everything else on the disks is replaced. Reboot the nodes to start (their
            firmware must boot from the network first, as an installed node's does). All named nodes, or none.
            """)
        {
            names, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var list = r.GetValue(names)!.Select(n => n.ToLowerInvariant()).ToList();
            var results = new List<(string Name, bool WasInstalled, bool ModeSet)>();
            await store.EditAsync(async e =>
            {
                var snapshot = await e.SnapshotAsync();
                foreach (var n in list)
                {
                    var node = await e.RequireNodeAsync(n);
                    var modeSet = snapshot.Resolve(node).Mode.Value != BootMode.Install;
                    if (modeSet)
                    {
                        await e.EditNodeAsync(n, x => x with { Settings = x.Settings with { Mode = BootMode.Install } });
                    }

                    results.Add((node.Name, await e.ForgetInstalledAsync(n), modeSet));
                }
            }, ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. results.Select(x => (JsonNode?)new JsonObject
                {
                    ["node"] = x.Name,
                    ["wasInstalled"] = x.WasInstalled,
                    ["modeSet"] = x.ModeSet,
                })]));
            }
            else
            {
                foreach (var x in results)
                {
                    Console.Out.WriteLine($"{x.Name}: installs at its next network boot" + (x.ModeSet ? " (mode set to install)" : string.Empty) +
                        (x.WasInstalled ? string.Empty : " (it was not installed)"));
                }
            }

            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
