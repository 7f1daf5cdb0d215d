namespace Sidus.Cli;

/// <summary>
/// The whole command tree of `sidus`, built in one place: the program parses with it, and the man pages and shell
/// completion are generated from it, so they can never disagree with the verbs.
/// </summary>
public static class SidusCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("""
            Sidus runs many Linux machines from a few OS images kept in one place: images are versioned,
            deduplicated trees in a content-addressed store, served to nodes over the network.
            """);
        root.Options.Add(Commands.GlobalOptions.Home);
        root.Options.Add(Commands.GlobalOptions.Plain);
        root.Options.Add(Commands.GlobalOptions.NoHeaders);
        root.Subcommands.Add(Commands.Image.ImageCommand.Create());
        root.Subcommands.Add(Commands.Store.StoreCommand.Create());
        root.Subcommands.Add(Commands.Demo.DemoCommand.Create());
        root.Subcommands.Add(Commands.Node.NodeCommand.Create());
        root.Subcommands.Add(Commands.Group.GroupCommand.Create());
        root.Subcommands.Add(Commands.Network.NetworkCommand.Create());
        root.Subcommands.Add(Commands.Inventory.ApplyCommand.Create());
        root.Subcommands.Add(Commands.Inventory.InventoryExportCommand.Create());
        root.Subcommands.Add(Commands.Token.TokenCommand.Create());
        root.Subcommands.Add(Commands.Layout.LayoutCommand.Create());
        root.Subcommands.Add(Commands.Serve.ServeCommand.Create());
        root.Subcommands.Add(Commands.Service.ServiceCommand.Create());
        root.Subcommands.Add(Commands.Docs.CompletionCommand.Create());
        root.Subcommands.Add(Commands.Docs.ManPagesCommand.Create());
        return root;
    }
}
