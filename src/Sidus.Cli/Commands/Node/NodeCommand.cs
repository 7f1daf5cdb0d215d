namespace Sidus.Cli.Commands.Node;

/// <summary>`sidus node ...`: the machines of the inventory.</summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var cmd = new Command("node", """
            Manage nodes: the machines Sidus boots, by MAC, with their image, boot mode, kernel arguments and tags
            (a node's own settings beat its groups', which beat the defaults).
            Exit codes: 0 ok, 1 invalid input, 2 not found, 3 conflict (MAC/IP/name taken, concurrent change).
            """)
        {
            db,
        };
        cmd.Subcommands.Add(NodeAddCommand.Create(db));
        cmd.Subcommands.Add(NodeListCommand.Create(db));
        cmd.Subcommands.Add(NodeShowCommand.Create(db));
        cmd.Subcommands.Add(NodeSetCommand.Create(db));
        cmd.Subcommands.Add(NodeRemoveCommand.Create(db));
        cmd.Subcommands.Add(NodeDiscoveredCommand.Create(db));
        cmd.Subcommands.Add(NodeAdoptCommand.Create(db));
        cmd.Subcommands.Add(NodeStatusCommand.Create(db));
        cmd.Subcommands.Add(NodeRevokeCommand.Create(db));
        cmd.Subcommands.Add(NodeReinstallCommand.Create(db));
        cmd.Subcommands.Add(NodeUpdateCommand.CreateUpdate(db));
        cmd.Subcommands.Add(NodeUpdateCommand.CreateDrift(db));
        cmd.Subcommands.Add(NodeCaptureCommand.Create(db));
        cmd.Subcommands.Add(NodeApplyOverridesCommand.Create(db));
        cmd.Subcommands.Add(NodeRenderCommand.Create(db));
        return cmd;
    }
}
