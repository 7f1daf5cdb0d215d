namespace Sidus.Cli.Commands.Image;

public static class ImportCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Image to add a version to (created if new)" };
        var source = new Argument<string>("source")
        {
            Description = "A directory (a root tree), a tarball (.tar, .tar.gz, .tar.zst, .tar.xz; compression told by content; - reads one from standard input), or an OCI image (OCI layout directory, or a `docker save` / OCI archive: layers applied in order, whiteouts honoured, digests verified)",
        };
        var message = new Option<string?>("--message", "-m") { Description = "What this version is (shown by 'image log')" };
        var json = GlobalOptions.Json();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };
        var command = new Command("import", "Import a root tree as a new version of an image; files already in the store are not stored again")
        {
            name, source, message, json, quiet, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var image = result.GetValue(name)!;
            var path = result.GetValue(source)!;
            using var progress = new ConsoleProgress(!result.GetValue(quiet) && !result.GetValue(json));
            var text = result.GetValue(message) ?? $"import {Path.GetFullPath(path)}";
            var version = images.Import(image, path, text, progress, ct);
            VersionOutput.Print(version, result.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }
}
