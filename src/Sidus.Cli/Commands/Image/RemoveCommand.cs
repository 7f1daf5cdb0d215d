using Sidus.Server.Images;
using Sidus.Store.Objects;
using Sidus.Cli.Commands.Inventory;

namespace Sidus.Cli.Commands.Image;

public static class RemoveCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("image")
        {
            Description = "NAME removes the image with all its versions and tags; NAME@N, NAME@IDPREFIX or NAME:TAG removes that one version",
        };
        var force = new Option<bool>("--force", "-f")
        {
            Description = "Remove even what nodes, groups or the defaults boot (they then fail to boot until changed), and the tags naming a version",
        };
        var db = InventoryCli.DbOption();
        var command = new Command("rm", """
            Remove an image, or one version of it. Refused while a node boots it (its own image, its group's or the
            defaults') or a group or the defaults name it, and for a version a tag names, unless --force. The newest
            version cannot be removed alone. Its data, exports and boot files are freed by 'sidus store gc'.
            """)
        {
            name, force, db, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.RunAsync(result, cancellation, async (images, ct) =>
        {
            var spec = result.GetValue(name)!;
            var (image, version, tag) = Repository.ParseSpec(spec);
            var whole = version is null && tag is null;
            // Resolved first: what does not exist is "not found", whoever names it.
            images.Repository.Resolve(spec);
            var users = ImageUsers.Of(await ImageUsersCli.ReadAsync(result, db, images.Repository, ct), images.Repository, spec);
            var what = whole ? $"image '{image}'" : spec;
            if (users.Count > 0 && !result.GetValue(force))
            {
                return InventoryCli.Error(
                    $"{what} is in use by {ImageUsers.Describe(users)}: give them another image ('sidus node set NODE --image ...', "
                    + "'sidus group set ...'), or use --force", ExitCodes.Conflict);
            }

            if (users.Count > 0)
            {
                Console.Error.WriteLine($"sidus: warning: removing {what} used by {ImageUsers.Describe(users)}: they cannot boot until changed");
            }

            if (whole)
            {
                var versions = images.Remove(image);
                Console.WriteLine($"removed image {image} ({versions} versions); run 'sidus store gc' to free its space");
                return ExitCodes.Success;
            }

            var removed = images.RemoveVersion(spec, dropTags: result.GetValue(force));
            var tags = removed.Tags.Count == 0 ? string.Empty : $" and its tag(s) {string.Join(", ", removed.Tags)}";
            Console.WriteLine($"removed {removed.Image}@{removed.Sequence} ({removed.Id.Short}){tags}; run 'sidus store gc' to free its space");
            return ExitCodes.Success;
        }));
        return command;
    }
}
