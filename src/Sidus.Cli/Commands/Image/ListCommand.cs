using Sidus.Store.Json;
using Spectre.Console;

namespace Sidus.Cli.Commands.Image;

public static class ListCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var command = new Command("list", "List images with their newest version") { json };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var repo = images.Repository;
            var rows = repo.Refs.Images().Select(name =>
            {
                var id = repo.Refs.Head(name)!.Value;
                return (name, id, commit: repo.ReadCommit(id), tags: repo.Refs.Tags(name));
            }).ToList();
            if (result.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var (name, id, commit, tags) in rows)
                {
                    array.Append(VersionJson.Version(id, commit, tags.Keys));
                }

                JsonOutput.Write(array);
                return ExitCodes.Success;
            }

            if (rows.Count == 0)
            {
                Console.WriteLine("no images yet: create one with 'sidus image build' or 'sidus image import'");
                return ExitCodes.Success;
            }

            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("IMAGE", "VERSION", "ID", "FILES", "SIZE", "TIME", "TAGS");
            foreach (var (name, id, commit, tags) in rows)
            {
                table.AddRow(Markup.Escape(name), commit.Sequence.ToString(), id.Short, commit.Files.ToString(),
                    Units.Bytes(commit.LogicalBytes), Units.Time(commit.Time), Markup.Escape(string.Join(",", tags.Keys)));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }
}
