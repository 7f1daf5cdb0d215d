namespace Sidus.Cli.Commands.Network;

/// <summary>`sidus network ...`: the networks Sidus serves and what their machines that are no node get.</summary>
public static class NetworkCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var cmd = new Command("network", """
            Manage networks: a subnet (or every network) and its policy for machines that are no node. Full DHCP
            gives every machine on its network an address from the pool; the policy says whether a machine that is
            no node also gets boot instructions: ignore (an address only, the default), discover (boot with the
            network's group and be listed by `sidus node discovered`), boot (boot with the group, not listed).
            A machine is judged by the network of its relay, else of the interface it asked on; the most specific
            subnet wins, a network without a subnet catches the rest.
            Exit codes: 0 ok, 1 invalid input, 2 not found, 3 conflict.
            """)
        {
            db,
        };
        cmd.Subcommands.Add(NetworkSetCommand.Create(db));
        cmd.Subcommands.Add(NetworkListCommand.Create(db));
        cmd.Subcommands.Add(NetworkRemoveCommand.Create(db));
        return cmd;
    }

    /// <summary>One line about a network: "lab 10.0.0.0/24: unknown machines boot with group compute (boot)".</summary>
    public static string Describe(NetworkPolicy n) =>
        $"{n.Name} {n.Subnet ?? "(every network)"}: unknown machines {n.Unknown switch
        {
            UnknownMachinePolicy.Ignore => "get an address only (ignore)",
            UnknownMachinePolicy.Discover => $"boot with group {n.DefaultGroup} and are listed as discovered (discover)",
            _ => $"boot with group {n.DefaultGroup} (boot)",
        }}";
}
