using Sidus.Cli.Commands.Inventory;

namespace Sidus.Cli.Commands.Image;

public static class PruneCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("image") { Description = "The image whose old versions go" };
        var keep = new Option<int>("--keep")
        {
            Description = "How many of the newest versions to keep (at least 1)",
            Required = true,
            HelpName = "N",
        };
        var keepTagged = new Option<bool>("--keep-tagged") { Description = "Keep every version a tag names too (without it, such a version goes with its tags)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only say what would be removed" };
        var json = GlobalOptions.Json();
        var db = InventoryCli.DbOption();
        var command = new Command("prune", """
            Remove the old versions of an image: all but the newest N, never a version a node boots (its effective
            image: its own, its group's or the defaults'), a group or the defaults name, nor, with --keep-tagged, one a
            tag names. Prints what it removed; 'sidus store gc' then frees the data, exports and boot files.
            """)
        {
            name, keep, keepTagged, dryRun, json, db, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.RunAsync(result, cancellation, async (images, ct) =>
        {
            var image = result.GetValue(name)!;
            var inUse = (await ImageUsersCli.ReadAsync(result, db, images.Repository, ct))
                .Where(u => u.Version is not null).Select(u => u.Version!.Value).ToHashSet();
            var dry = result.GetValue(dryRun);
            var removed = images.Prune(image, result.GetValue(keep), result.GetValue(keepTagged), inUse, dry);
            if (result.GetValue(json))
            {
                var list = new JsonArray();
                foreach (var v in removed)
                {
                    list.Append(new JsonObject
                    {
                        ["version"] = v.Sequence,
                        ["id"] = v.Id.ToString(),
                        ["tags"] = new JsonArray(v.Tags.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
                    });
                }

                JsonOutput.Write(new JsonObject { ["image"] = image, ["dry_run"] = dry, ["removed"] = list });
                return ExitCodes.Success;
            }

            var verb = dry ? "would remove" : "removed";
            foreach (var v in removed)
            {
                var tags = v.Tags.Count == 0 ? string.Empty : $" with tag(s) {string.Join(", ", v.Tags)}";
                Console.WriteLine($"{verb} {image}@{v.Sequence} ({v.Id.Short}){tags}");
            }

            Console.WriteLine(removed.Count == 0
                ? $"nothing to prune in {image}"
                : dry ? $"{removed.Count} version(s) would go" : $"{removed.Count} version(s) removed; run 'sidus store gc' to free their space");
            return ExitCodes.Success;
        }));
        return command;
    }
}
