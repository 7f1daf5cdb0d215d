namespace Sidus.Cli.Commands.Group;

/// <summary>`sidus group ...`: groups (profiles) whose settings their nodes inherit.</summary>
public static class GroupCommand
{
    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var cmd = new Command("group", """
            Manage groups (profiles): image, boot mode, kernel arguments and tags shared by their nodes. A node in
            several groups takes each setting from the first group that sets it; its own settings win over all.
            Exit codes: 0 ok, 1 invalid input, 2 not found, 3 conflict (name taken, group in use).
            """)
        {
            db,
        };
        cmd.Subcommands.Add(GroupAddCommand.Create(db));
        cmd.Subcommands.Add(GroupSetCommand.Create(db));
        cmd.Subcommands.Add(GroupListCommand.Create(db));
        cmd.Subcommands.Add(GroupRemoveCommand.Create(db));
        return cmd;
    }
}
