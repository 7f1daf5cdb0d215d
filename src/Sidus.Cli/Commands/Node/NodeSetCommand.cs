namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node set NAME ...`: change a node; read, change and write happen in one transaction.</summary>
public static class NodeSetCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "The node to change" };
        var macs = new Option<string[]>("--mac") { Description = "Replace the MAC list with these (repeatable)", HelpName = "MAC" };
        var addMac = new Option<string[]>("--add-mac") { Description = "Add a MAC (repeatable)", HelpName = "MAC" };
        var removeMac = new Option<string[]>("--remove-mac") { Description = "Remove a MAC (repeatable)", HelpName = "MAC" };
        var ip = new Option<string?>("--ip") { Description = "Set the fixed IPv4 address", HelpName = "IP" };
        var clearIp = new Option<bool>("--clear-ip") { Description = "Drop the fixed address (take one from the pool)" };
        var groups = new Option<string[]>("--group") { Description = "Replace the group list with these, in order (repeatable)", HelpName = "GROUP" };
        var addGroup = new Option<string[]>("--add-group") { Description = "Join a group, after the current ones (repeatable)", HelpName = "GROUP" };
        var removeGroup = new Option<string[]>("--remove-group") { Description = "Leave a group (repeatable)", HelpName = "GROUP" };
        var clearGroups = new Option<bool>("--clear-groups") { Description = "Leave every group" };
        var settings = new SettingsOptions(withClear: true);
        var cmd = new Command("set", """
            Change a node. Options not given leave that part alone; --clear-* unsets a setting so the node
            inherits it from its groups or the defaults. Two admins changing one node at once both keep
            their changes: each change re-reads the node inside its own transaction.
              sidus node set node001 --image debian@4 --tag rack=r2
              sidus node set node001 --clear-mode --add-group gpu
            """)
        {
            name, macs, addMac, removeMac, ip, clearIp, groups, addGroup, removeGroup, clearGroups,
        };
        settings.AddTo(cmd);
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var given = settings.AnyGiven(r) || r.GetValue(macs) is { Length: > 0 } || r.GetValue(addMac) is { Length: > 0 }
                || r.GetValue(removeMac) is { Length: > 0 } || r.GetValue(ip) is not null || r.GetValue(clearIp)
                || r.GetValue(groups) is { Length: > 0 } || r.GetValue(addGroup) is { Length: > 0 }
                || r.GetValue(removeGroup) is { Length: > 0 } || r.GetValue(clearGroups);
            if (!given)
            {
                return InventoryCli.Error("nothing to change: give at least one option (see `sidus node set --help`)");
            }

            if (r.GetValue(ip) is not null && r.GetValue(clearIp))
            {
                return InventoryCli.Error("--ip and --clear-ip contradict each other");
            }

            var updated = await store.EditAsync(e => e.EditNodeAsync(r.GetValue(name)!, n =>
            {
                var macList = r.GetValue(macs) is { Length: > 0 } replace ? [.. replace.Select(MacAddress.Parse)] : n.Macs.ToList();
                foreach (var m in (r.GetValue(addMac) ?? []).Select(MacAddress.Parse))
                {
                    if (!macList.Contains(m))
                    {
                        macList.Add(m);
                    }
                }

                foreach (var m in (r.GetValue(removeMac) ?? []).Select(MacAddress.Parse))
                {
                    if (!macList.Remove(m))
                    {
                        throw new InventoryException(InventoryErrorKind.NotFound, $"node '{n.Name}' has no MAC {m}");
                    }
                }

                var groupList = r.GetValue(clearGroups) ? [] : r.GetValue(groups) is { Length: > 0 } g ? [.. g.Select(x => x.ToLowerInvariant())] : n.Groups.ToList();
                foreach (var add in r.GetValue(addGroup) ?? [])
                {
                    if (!groupList.Contains(add.ToLowerInvariant()))
                    {
                        groupList.Add(add.ToLowerInvariant());
                    }
                }

                foreach (var rm in r.GetValue(removeGroup) ?? [])
                {
                    if (!groupList.Remove(rm.ToLowerInvariant()))
                    {
                        throw new InventoryException(InventoryErrorKind.NotFound, $"node '{n.Name}' is not in group '{rm}'");
                    }
                }

                return n with
                {
                    Macs = [.. macList],
                    Ip = r.GetValue(clearIp) ? null : r.GetValue(ip) is { } a ? Names.Ipv4(a) : n.Ip,
                    Groups = [.. groupList],
                    Settings = settings.Apply(r, n.Settings),
                };
            }), ct);
            Console.Out.WriteLine($"updated node {updated.Name} (revision {updated.Revision})");
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
