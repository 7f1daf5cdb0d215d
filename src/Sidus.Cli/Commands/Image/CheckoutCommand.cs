using Sidus.Store.Checkout;

namespace Sidus.Cli.Commands.Image;

public static class CheckoutCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("image") { Description = "NAME (newest version), NAME@N, NAME@IDPREFIX or NAME:TAG" };
        var target = new Argument<string>("dir") { Description = "Directory to make equal to the version (created if missing)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "List what would change, change nothing" };
        var checksum = new Option<bool>("--checksum", "-c") { Description = "Re-hash existing files instead of trusting what sidus recorded when it last wrote them" };
        var json = GlobalOptions.Json();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };
        var command = new Command("checkout", """
            Make DIR exactly equal to an image version: create, update and delete only what differs (an empty DIR gets
            the whole tree). Ownership, permissions, xattrs, ACLs, times, hard links, devices and holes are restored.
            Nothing outside DIR is ever written, even through symlinks inside it.
            """)
        {
            spec, target, dryRun, checksum, json, quiet,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var asJson = result.GetValue(json);
            var dry = result.GetValue(dryRun);
            var changes = new JsonArray();
            var gate = new object();
            using var progress = new ConsoleProgress(!result.GetValue(quiet) && !asJson && !dry);
            var options = new CheckoutOptions
            {
                DryRun = dry,
                Checksum = result.GetValue(checksum),
                Progress = progress,
                OnChange = !dry ? null : (action, path) =>
                {
                    lock (gate)
                    {
                        if (asJson)
                        {
                            changes.Append(new JsonObject { ["action"] = action.ToString().ToLowerInvariant(), ["path"] = LinuxException.Printable(path) });
                        }
                        else
                        {
                            Console.WriteLine($"{action.ToString().ToLowerInvariant(),-8} {LinuxException.Printable(path)}");
                        }
                    }
                },
            };
            var dir = result.GetValue(target)!;
            var outcome = images.Checkout(result.GetValue(spec)!, dir, options, ct);
            if (asJson)
            {
                var node = new JsonObject
                {
                    ["dry_run"] = dry,
                    ["created"] = outcome.Created,
                    ["updated"] = outcome.Updated,
                    ["deleted"] = outcome.Deleted,
                    ["unchanged"] = outcome.Unchanged,
                    ["bytes_written"] = outcome.BytesWritten,
                };
                if (dry)
                {
                    node["changes"] = changes;
                }

                JsonOutput.Write(node);
            }
            else
            {
                var verb = dry ? "would change" : "changed";
                Console.Error.WriteLine($"{dir}: {verb} {outcome.Created} created, {outcome.Updated} updated, {outcome.Deleted} deleted; " +
                                        $"{outcome.Unchanged} files unchanged; {Units.Bytes(outcome.BytesWritten)} written");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
