namespace Sidus.Cli.Commands.Image;

public static class RemoveCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The image to remove, with all its versions and tags" };
        var command = new Command("rm", "Remove an image; its data is freed by the next 'sidus store gc' (except what other images share)")
        {
            name, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var image = result.GetValue(name)!;
            var versions = images.Remove(image);
            Console.WriteLine($"removed image {image} ({versions} versions); run 'sidus store gc' to free its space");
            return ExitCodes.Success;
        }));
        return command;
    }
}
