using Shapes = Sidus.Nodes.Json.InventoryJson;

namespace Sidus.Cli.Commands.Network;

public static class NetworkListCommand
{
    public static Command Create(Option<string?> db)
    {
        var json = GlobalOptions.Json();
        var cmd = new Command("list", "List networks with their policy for machines that are no node") { json };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. snap.Networks.Select(n => (JsonNode?)Shapes.Network(n))]));
                return InventoryCli.Ok;
            }

            if (snap.Networks.IsEmpty)
            {
                Console.Out.WriteLine("no networks yet: unknown machines get an address only, nothing to boot");
                Console.Out.WriteLine("to boot them: sidus network set NAME --subnet CIDR --unknown boot --group G");
                return InventoryCli.Ok;
            }

            var table = new TextTable("NAME", "SUBNET", "UNKNOWN", "GROUP");
            foreach (var n in snap.Networks)
            {
                table.AddRow(n.Name, n.Subnet ?? "(any)", NetworkPolicy.PolicyText(n.Unknown), n.DefaultGroup ?? "-");
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
