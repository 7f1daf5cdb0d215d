namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node discovered`: unknown machines that asked to boot on a network with the discover policy.</summary>
public static class NodeDiscoveredCommand
{
    public static Command Create(Option<string?> db)
    {
        var json = GlobalOptions.Json();
        var forget = new Option<string[]>("--forget")
        {
            Description = "Remove this machine from the (capped) list instead; repeat for more",
            HelpName = "MAC",
        };
        var forgetAll = new Option<bool>("--forget-all") { Description = "Remove every machine from the list instead" };
        var cmd = new Command("discovered", "List machines that asked to boot but are no node yet (adopt one with `sidus node adopt MAC NAME`)")
        {
            json, forget, forgetAll,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            if (r.GetValue(forgetAll) || r.GetValue(forget) is { Length: > 0 })
            {
                var macs = r.GetValue(forgetAll) ? null : r.GetValue(forget)!.Select(MacAddress.Parse).ToList();
                var removed = await store.ForgetDiscoveredAsync(macs, ct);
                if (r.GetValue(json))
                {
                    InventoryJson.Print(new JsonObject { ["forgotten"] = removed });
                }
                else
                {
                    Console.Out.WriteLine($"forgot {removed} discovered machine(s)");
                }

                return InventoryCli.Ok;
            }

            var list = await store.ListDiscoveredAsync(ct);
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonArray([.. list.Select(d => (JsonNode?)new JsonObject
                {
                    ["mac"] = d.Mac.ToString(),
                    ["arch"] = d.Architecture,
                    ["network"] = d.Network,
                    ["group"] = d.Group,
                    ["firstSeen"] = d.FirstSeen.ToString("O", CultureInfo.InvariantCulture),
                    ["lastSeen"] = d.LastSeen.ToString("O", CultureInfo.InvariantCulture),
                    ["timesSeen"] = d.TimesSeen,
                })]));
                return InventoryCli.Ok;
            }

            if (list.Count == 0)
            {
                Console.Out.WriteLine("no discovered machines");
                return InventoryCli.Ok;
            }

            var table = new TextTable("MAC", "ARCH", "NETWORK", "GROUP", "FIRST SEEN", "LAST SEEN", "TIMES");
            foreach (var d in list)
            {
                table.AddRow(d.Mac.ToString(), d.Architecture ?? "-", d.Network ?? "-", d.Group ?? "-",
                    d.FirstSeen.ToString("u", CultureInfo.InvariantCulture), d.LastSeen.ToString("u", CultureInfo.InvariantCulture),
                    d.TimesSeen.ToString(CultureInfo.InvariantCulture));
            }

            table.Write();
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
