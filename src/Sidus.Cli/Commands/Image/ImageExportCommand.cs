using Sidus.Store.Export;

namespace Sidus.Cli.Commands.Image;

public static class ImageExportCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("image") { Description = "NAME (newest version), NAME@N, NAME@IDPREFIX or NAME:TAG" };
        var format = Choice.Option<ExportFormat>("--format", "-f");
        format.Description = "tar: PAX tar with xattrs, ACLs, ns times, holes (GNU tar: tar --xattrs --xattrs-include='*' --acls -xpf). " +
                          "squashfs: built with sqfstar (squashfs-tools). erofs: built with mkfs.erofs (erofs-utils). " +
                          "cpio: newc, as the kernel unpacks an initramfs (no xattrs, holes written as zeros)";
        format.Required = true;
        var output = new Option<string>("--output", "-o")
        {
            Description = "File to write (written as FILE.tmp, renamed when complete); '-' writes tar or cpio to standard output",
            Required = true,
            HelpName = "FILE",
        };
        var json = GlobalOptions.Json();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress or warnings on stderr" };
        var command = new Command("export", """
            Write an image version as a tar, cpio, squashfs or EROFS file, streamed from the store. Owners, permissions,
            setuid bits, times, xattrs (capabilities, SELinux labels), ACLs, hard links, devices and fifos are kept
            where the format can hold them: tar cannot hold sockets (left out, with a warning); cpio holds no xattrs
            and whole-second times only; squashfs keeps whole-second times and no ACLs.
            A failed or interrupted export leaves no partial FILE.
            """)
        {
            spec, format, output, json, quiet,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var asJson = result.GetValue(json);
            var file = result.GetValue(output)!;
            var toStdout = file == ExportOutput.StandardOutput;
            var chosen = result.GetValue(format);
            using var progress = new ConsoleProgress(!result.GetValue(quiet) && !asJson && !toStdout);
            var outcome = ImageExport.Export(images.Repository, result.GetValue(spec)!, chosen, file, progress, ct);
            if (!result.GetValue(quiet))
            {
                foreach (var warning in outcome.Warnings)
                {
                    progress.Message("sidus: warning: " + warning);
                }
            }

            if (asJson && !toStdout)
            {
                var warnings = new JsonArray();
                foreach (var warning in outcome.Warnings)
                {
                    warnings.Append(warning);
                }

                JsonOutput.Write(new JsonObject
                {
                    ["format"] = chosen.ToString().ToLowerInvariant(),
                    ["output"] = Path.GetFullPath(file),
                    ["entries"] = outcome.Entries,
                    ["data_bytes"] = outcome.DataBytes,
                    ["output_bytes"] = outcome.OutputBytes,
                    ["skipped_sockets"] = outcome.SkippedSockets,
                    ["dropped_xattrs"] = outcome.DroppedXattrs,
                    ["warnings"] = warnings,
                });
            }
            else if (!toStdout)
            {
                Console.Error.WriteLine($"{file}: {outcome.Entries} entries, {Units.Bytes(outcome.DataBytes)} of file data, {Units.Bytes(outcome.OutputBytes)} written");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
