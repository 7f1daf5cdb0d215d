using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

public static class ListCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var command = new Command("list", "List images with their newest version, and their tags (a tag that names an older version shows it: prod=@6)") { json };
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

            var table = new TextTable("IMAGE", "VERSION", "ID", "FILES", "SIZE", "TIME", "TAGS");
            foreach (var (name, id, commit, tags) in rows)
            {
                table.AddRow(name, commit.Sequence.ToString(), id.Short, commit.Files.ToString(),
                    Units.Bytes(commit.LogicalBytes), Units.Time(commit.Time), TagsText(repo, id, tags));
            }

            table.Write();
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The image's tags: bare when they name the version shown (as `image show` lists them), else with the
    /// version they name ("prod=@6").</summary>
    private static string TagsText(Repository repo, Sidus.Store.Objects.ObjectId newest, IReadOnlyDictionary<string, Sidus.Store.Objects.ObjectId> tags) =>
        string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => t.Value == newest ? t.Key : $"{t.Key}=@{repo.ReadCommit(t.Value).Sequence}"));
}
