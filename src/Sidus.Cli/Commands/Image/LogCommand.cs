using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

public static class LogCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Image whose versions to list, newest first" };
        var json = GlobalOptions.Json();
        var command = new Command("log", "List every version of an image, newest first") { name, json };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var image = result.GetValue(name)!;
            Sidus.Store.Refs.RefStore.ValidateName(image, "image");
            var tagsById = images.Repository.Refs.Tags(image).GroupBy(t => t.Value).ToDictionary(g => g.Key, g => g.Select(t => t.Key).ToList());
            var history = images.Repository.History(image).ToList();
            if (result.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var (id, commit) in history)
                {
                    array.Append(VersionJson.Version(id, commit, tagsById.GetValueOrDefault(id) ?? []));
                }

                JsonOutput.Write(array);
                return ExitCodes.Success;
            }

            var table = new TextTable("VERSION", "ID", "TIME", "FILES", "SIZE", "TAGS", "MESSAGE");
            foreach (var (id, commit) in history)
            {
                table.AddRow(commit.Sequence.ToString(), id.Short, Units.Time(commit.Time), commit.Files.ToString(),
                    Units.Bytes(commit.LogicalBytes), string.Join(",", tagsById.GetValueOrDefault(id) ?? []), commit.Message);
            }

            table.Write();
            return ExitCodes.Success;
        }));
        return command;
    }
}
