namespace Sidus.Cli.Commands.Network;

public static class NetworkSetCommand
{
    public static Command Create(Option<string?> db)
    {
        var name = new Argument<string>("name") { Description = "Network name (a DNS label); created when it does not exist" };
        var subnet = new Option<string?>("--subnet") { Description = "Its IPv4 subnet, like 10.0.0.0/24", HelpName = "CIDR" };
        var anySubnet = new Option<bool>("--any-subnet") { Description = "Make it the catch-all for addresses no other network has" };
        var unknown = new Option<string?>("--unknown")
        {
            Description = "What machines that are no node get: ignore (an address only), discover (boot with --group, listed as discovered), boot (boot with --group)",
            HelpName = "POLICY",
        };
        unknown.AcceptOnlyFromAmong("ignore", "discover", "boot");
        var group = new Option<string?>("--group") { Description = "The group whose settings they boot with (discover and boot)", HelpName = "GROUP" };
        var clearGroup = new Option<bool>("--clear-group") { Description = "Forget the group (only with --unknown ignore)" };
        var cmd = new Command("set", """
            Add or change a network; options not given keep their value (a new network: every network, ignore).
              sidus network set lab --subnet 10.0.0.0/24 --unknown boot --group compute
            """)
        {
            name, subnet, anySubnet, unknown, group, clearGroup,
        };
        cmd.Validators.Add(v =>
        {
            if (v.GetValue(subnet) is not null && v.GetValue(anySubnet))
            {
                v.AddError("--subnet and --any-subnet contradict each other");
            }

            if (v.GetValue(group) is not null && v.GetValue(clearGroup))
            {
                v.AddError("--group and --clear-group contradict each other");
            }
        });
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var wanted = r.GetValue(name)!.ToLowerInvariant();
            var set = await store.EditAsync(async e =>
            {
                var old = (await e.ListNetworksAsync()).FirstOrDefault(n => n.Name == wanted) ?? new NetworkPolicy { Name = wanted };
                var changed = old with
                {
                    Subnet = r.GetValue(anySubnet) ? null : r.GetValue(subnet) ?? old.Subnet,
                    Unknown = r.GetValue(unknown) is { } policy ? NetworkPolicy.ParsePolicy(policy) : old.Unknown,
                    DefaultGroup = r.GetValue(clearGroup) ? null : r.GetValue(group) ?? old.DefaultGroup,
                };
                return await e.SetNetworkAsync(changed);
            }, ct);
            Console.Out.WriteLine("network " + NetworkCommand.Describe(set));
            return InventoryCli.Ok;
        }));
        return cmd;
    }
}
