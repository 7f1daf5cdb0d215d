using System.CommandLine;
using Sidus.Cli.Commands.Inventory;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node rm NAME...`: remove nodes (all named ones, or none).</summary>
public static class NodeRemoveCommand
{
    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Nodes to remove", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("rm", "Remove nodes from the inventory; their MACs become unknown machines again. All named nodes go, or none") { names };
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
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
