using Sidus.Cli.Commands;

namespace Sidus.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Tables piped to a file or a pager keep one row per line.
            Spectre.Console.AnsiConsole.Profile.Width = 250;
        }

        var root = new RootCommand("""
            Sidus runs many Linux machines from a few OS images kept in one place: images are versioned,
            deduplicated trees in a content-addressed store, served to nodes over the network.
            """);
        root.Options.Add(GlobalOptions.Home);
        root.Subcommands.Add(Commands.Image.ImageCommand.Create());
        root.Subcommands.Add(Commands.Store.StoreCommand.Create());
        root.Subcommands.Add(Commands.Demo.DemoCommand.Create());
        root.Subcommands.Add(Commands.Node.NodeCommand.Create());
        root.Subcommands.Add(Commands.Group.GroupCommand.Create());
        root.Subcommands.Add(Commands.Network.NetworkCommand.Create());
        root.Subcommands.Add(Commands.Inventory.ApplyCommand.Create());
        root.Subcommands.Add(Commands.Inventory.InventoryExportCommand.Create());
        root.Subcommands.Add(Commands.Serve.ServeCommand.Create());
        return await root.Parse(args).InvokeAsync();
    }
}
