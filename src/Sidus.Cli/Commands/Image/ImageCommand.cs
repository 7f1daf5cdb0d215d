namespace Sidus.Cli.Commands.Image;

/// <summary>`sidus image`: build, import, change, inspect and export image versions.</summary>
public static class ImageCommand
{
    public static Command Create()
    {
        var image = new Command("image", "Images: build, import, change (exec), inspect, compare, tag, roll back, check out and export versions");
        image.Subcommands.Add(BuildCommand.Create());
        image.Subcommands.Add(ImportCommand.Create());
        image.Subcommands.Add(CaptureCommand.Create());
        image.Subcommands.Add(ExecCommand.Create());
        image.Subcommands.Add(CheckoutCommand.Create());
        image.Subcommands.Add(ImageExportCommand.Create());
        image.Subcommands.Add(InitramfsCommand.Create());
        image.Subcommands.Add(ListCommand.Create());
        image.Subcommands.Add(ShowCommand.Create());
        image.Subcommands.Add(LogCommand.Create());
        image.Subcommands.Add(DiffCommand.Create());
        image.Subcommands.Add(TagCommand.Create());
        image.Subcommands.Add(RollbackCommand.Create());
        image.Subcommands.Add(RemoveCommand.Create());
        image.Subcommands.Add(PruneCommand.Create());
        return image;
    }
}
