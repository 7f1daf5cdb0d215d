namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node rm NAME...`: remove nodes (all named ones, or none).</summary>
public static class NodeRemoveCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Nodes to remove", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("rm", "Remove nodes from the inventory; their MACs become unknown machines again, their generated machine-id and SSH host keys are deleted. All named nodes go, or none") { names };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var list = r.GetValue(names)!;
            await store.EditAsync(async e =>
            {
                foreach (var n in list)
                {
                    await e.RemoveNodeAsync(n);
                }
            }, ct);
            Console.Out.WriteLine($"removed {string.Join(", ", list.Select(n => n.ToLowerInvariant()))}");

            // A removed node's machine-id and SSH host keys go with it: a node added later under the name is a new machine.
            var secrets = new Sidus.Nodes.Overrides.NodeSecrets(NodeRenderCommand.LoadOptions(r, db, null).OverrideLocations.State);
            foreach (var n in list)
            {
                secrets.Forget(n);
            }
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
