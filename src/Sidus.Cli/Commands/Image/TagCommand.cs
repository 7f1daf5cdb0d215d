namespace Sidus.Cli.Commands.Image;

public static class TagCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("version") { Description = "The version to name: NAME@N, NAME@IDPREFIX, NAME:TAG or NAME (newest)" };
        var tag = new Argument<string>("tag") { Description = "The tag (letters, digits, '.', '_', '-'); an existing tag of that name is moved" };
        var delete = new Option<bool>("--delete", "-d") { Description = "Remove the tag instead (VERSION is then just the image NAME)" };
        var command = new Command("tag", "Name a version (NAME:TAG then refers to it; nodes can follow a tag such as 'production')")
        {
            spec, tag, delete, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var name = result.GetValue(tag)!;
            if (result.GetValue(delete))
            {
                var image = Repository.ParseSpec(result.GetValue(spec)!).Image;
                images.Untag(image, name);
                Console.WriteLine($"removed tag {image}:{name}");
                return ExitCodes.Success;
            }

            var (id, commit) = images.Tag(result.GetValue(spec)!, name);
            Console.WriteLine($"{commit.Image}:{name} -> {commit.Image}@{commit.Sequence} ({id.Short})");
            return ExitCodes.Success;
        }));
        return command;
    }
}
