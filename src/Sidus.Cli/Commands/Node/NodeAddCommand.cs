using Sidus.Nodes.Bulk;

namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node add`: one node, or many from a name range and a MAC file (SystemImager's addclients).</summary>
public static class NodeAddCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string?>("name") { Description = "Node name (a DNS label); omit it with --range", Arity = ArgumentArity.ZeroOrOne };
        var macs = new Option<string[]>("--mac") { Description = "MAC address (aa:bb:cc:dd:ee:ff, aa-bb-..., aabbcc...); repeat for more interfaces", HelpName = "MAC" };
        var ip = new Option<string?>("--ip") { Description = "Fixed IPv4 address (a DHCP reservation)", HelpName = "IP" };
        var groups = new Option<string[]>("--group") { Description = "Group to join; repeat for more (earlier groups take precedence)", HelpName = "GROUP" };
        var range = new Option<string?>("--range") { Description = "Add many nodes: names from a range like node[001-128]", HelpName = "PATTERN" };
        var macFrom = new Option<string?>("--mac-from") { Description = "With --range: file of MACs, one per line, in the order of the names", HelpName = "FILE" };
        var ipFrom = new Option<string?>("--ip-from") { Description = "With --range: first address; each next node gets the next one", HelpName = "IP" };
        var settings = new SettingsOptions(withClear: false);
        var cmd = new Command("add", """
            Add a node, or with --range many at once (all or none, in one transaction):
              sidus node add node001 --mac 52:54:00:12:34:56 --ip 10.0.0.10 --group compute
              sidus node add --range node[001-128] --mac-from macs.txt --ip-from 10.0.0.10 --group compute
            """)
        {
            name, macs, ip, groups, range, macFrom, ipFrom,
        };
        settings.AddTo(cmd);
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var s = settings.Apply(r, NodeSettings.Empty);
            var groupList = r.GetValue(groups) ?? [];
            if (r.GetValue(range) is { } pattern)
            {
                if (r.GetValue(name) is not null || r.GetValue(macs) is { Length: > 0 } || r.GetValue(ip) is not null)
                {
                    return InventoryCli.Error("with --range, give no NAME, --mac or --ip: names come from the range, MACs from --mac-from, addresses from --ip-from");
                }

                if (r.GetValue(macFrom) is not { } file)
                {
                    return InventoryCli.Error("--range needs --mac-from FILE (one MAC per line, in name order)");
                }

                IReadOnlyList<MacAddress> macList;
                try
                {
                    using var reader = new StreamReader(file);
                    macList = BulkNodes.ReadMacs(reader, file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return InventoryCli.Error($"cannot read {file}: {e.Message}");
                }

                var first = r.GetValue(ipFrom) is { } f ? Names.Ipv4(f) : null;
                var nodes = BulkNodes.Build(NameRange.Expand(pattern), macList, first, groupList, s);
                var networks = (await store.LoadAsync(ct)).Networks;
                foreach (var n in nodes.Where(n => n.Ip is not null))
                {
                    if (HostAddress.Problem(n.Ip!, networks) is { } problem)
                    {
                        return InventoryCli.Error(
                            $"--ip-from {first}: {n.Name} would get {n.Ip}, {problem}; choose a first address from which all {nodes.Count} nodes fit inside the subnet");
                    }
                }

                await store.EditAsync(async e =>
                {
                    foreach (var n in nodes)
                    {
                        await e.AddNodeAsync(n);
                    }
                }, ct);
                Console.Out.WriteLine($"added {nodes.Count} nodes: {nodes[0].Name} .. {nodes[^1].Name}");
                return InventoryCli.Ok;
            }

            if (r.GetValue(macFrom) is not null || r.GetValue(ipFrom) is not null)
            {
                return InventoryCli.Error("--mac-from and --ip-from go with --range");
            }

            if (r.GetValue(name) is not { } nodeName)
            {
                return InventoryCli.Error("give the node's NAME (or --range PATTERN for many): sidus node add NAME --mac MAC");
            }

            var node = new Sidus.Nodes.Node
            {
                Name = nodeName,
                Macs = [.. (r.GetValue(macs) ?? []).Select(MacAddress.Parse)],
                Ip = r.GetValue(ip) is { } a ? Names.Ipv4(a) : null,
                Groups = [.. groupList],
                Settings = s,
            };
            var added = await store.EditAsync(e => e.AddNodeAsync(node), ct);
            Console.Out.WriteLine($"added node {added.Name} ({string.Join(", ", added.Macs)}{(added.Ip is IPAddress i ? ", " + i : "")})");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
