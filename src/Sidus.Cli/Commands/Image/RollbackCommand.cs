namespace Sidus.Cli.Commands.Image;

public static class RollbackCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The image" };
        var version = new Argument<string>("version") { Description = "The version to return to: N, IDPREFIX, or NAME:TAG" };
        var json = GlobalOptions.Json();
        var command = new Command("rollback", "Make an older version the newest again, as a new version (nothing is lost: you can roll forward the same way)")
        {
            name, version, json, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var outcome = images.Rollback(result.GetValue(name)!, result.GetValue(version)!);
            VersionOutput.Print(outcome, result.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }
}
