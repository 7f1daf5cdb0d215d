using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

public static class ShowCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("image") { Description = "NAME, NAME@N, NAME@IDPREFIX or NAME:TAG" };
        var json = GlobalOptions.Json();
        var command = new Command("show", "Show one version: id, parent, time, message, size, tags") { spec, json };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var (id, commit) = images.Repository.Resolve(result.GetValue(spec)!);
            var tags = images.Repository.Refs.Tags(commit.Image).Where(t => t.Value == id).Select(t => t.Key).ToList();
            if (result.GetValue(json))
            {
                JsonOutput.Write(VersionJson.Version(id, commit, tags));
                return ExitCodes.Success;
            }

            Console.WriteLine($"image:    {commit.Image}");
            Console.WriteLine($"version:  {commit.Sequence}");
            Console.WriteLine($"id:       {id}");
            Console.WriteLine($"parent:   {commit.Parent?.ToString() ?? "(none)"}");
            Console.WriteLine($"time:     {Units.Time(commit.Time)}");
            Console.WriteLine($"author:   {commit.Author}");
            Console.WriteLine($"message:  {commit.Message}");
            Console.WriteLine($"files:    {commit.Files} ({commit.Entries} entries)");
            Console.WriteLine($"size:     {Units.Bytes(commit.LogicalBytes)}");
            Console.WriteLine($"tags:     {(tags.Count == 0 ? "(none)" : string.Join(", ", tags))}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
