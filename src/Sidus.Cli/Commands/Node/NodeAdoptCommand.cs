namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node adopt MAC NAME`: a discovered machine becomes a node in one command.</summary>
public static class NodeAdoptCommand
{
    public static Command Create(Option<string?> db)
    {
        var mac = new Argument<string>("mac") { Description = "MAC of the discovered machine (`sidus node discovered` lists them)" };
        var name = new Argument<string>("name") { Description = "Name for the new node" };
        var groups = new Option<string[]>("--group") { Description = "Groups for the node (default: the group it was discovered with)", HelpName = "GROUP" };
        var cmd = new Command("adopt", "Turn a discovered machine into a node: sidus node adopt 52:54:00:12:34:56 node129 --group compute")
        {
            mac, name, groups,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var node = await store.AdoptAsync(MacAddress.Parse(r.GetValue(mac)!), r.GetValue(name)!, r.GetValue(groups), ct);
            Console.Out.WriteLine($"adopted {node.Macs[0]} as node {node.Name}{(node.Groups.Length > 0 ? " in " + string.Join(", ", node.Groups) : "")}");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
