namespace Sidus.Cli.Commands.Image;

public static class ExecCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Image to change (its newest version)" };
        var commandLine = new Argument<string[]>("command") { Description = "The command and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        var message = new Option<string?>("--message", "-m") { Description = "What this change is (default: the command)" };
        var json = GlobalOptions.Json();
        var command = new Command("exec", """
            Run a command inside an image, e.g. `sidus image exec base -- apt-get install -y vim`: a chroot with /proc,
            /sys, /dev and /dev/pts mounted (always unmounted afterwards, even on Ctrl-C), services kept from
            starting. If the command succeeds and changed anything, the result becomes a new version; if it fails,
            nothing is recorded and the exit code is the command's.
            """)
        {
            name, commandLine, message, json, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.RunAsync(result, cancellation, async (images, ct) =>
        {
            var image = result.GetValue(name)!;
            using var progress = new ConsoleProgress(!result.GetValue(json));
            var (code, version) = await images.ExecAsync(image, result.GetValue(commandLine)!, result.GetValue(message), progress, ct);
            progress.Dispose();
            if (version is null)
            {
                CliError.Write($"the command exited with code {code}; no version was recorded", $"the next exec starts again from the newest version of {image}");
                return code;
            }

            VersionOutput.Print(version, result.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }
}
