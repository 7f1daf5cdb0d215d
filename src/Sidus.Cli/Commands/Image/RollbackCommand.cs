namespace Sidus.Cli.Commands.Image;

public static class RollbackCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("name") { Description = "The version to return to as NAME@N, NAME@IDPREFIX or NAME:TAG (the form `image tag` takes), or the image NAME followed by VERSION" };
        var version = new Argument<string?>("version") { Description = "With a bare NAME: the version, N, IDPREFIX or NAME:TAG", Arity = ArgumentArity.ZeroOrOne };
        var json = GlobalOptions.Json();
        var command = new Command("rollback", """
            Make an older version the newest again, as a new version (nothing is lost: you can roll forward the same
            way). `sidus image rollback demo@6` and `sidus image rollback demo 6` do the same.
            """)
        {
            target, version, json, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var (image, chosen) = Target(result.GetValue(target)!, result.GetValue(version));
            var outcome = images.Rollback(image, chosen);
            VersionOutput.Print(outcome, result.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The image and the version to return to, from "demo@6", "demo:prod" or "demo" "6".</summary>
    private static (string Image, string Version) Target(string first, string? second)
    {
        if (second is not null)
        {
            return (first, second);
        }

        var (image, number, tag) = Repository.ParseSpec(first);
        if (number is null && tag is null)
        {
            throw new StoreException($"say which version of '{image}' to return to: `sidus image rollback {image}@N` (`sidus image log {image}` lists them)", StoreErrorKind.Usage);
        }

        return (image, first);
    }
}
