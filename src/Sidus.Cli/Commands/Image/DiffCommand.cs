using Sidus.Store.Diff;
using Sidus.Store.Json;

namespace Sidus.Cli.Commands.Image;

public static class DiffCommand
{
    public static Command Create()
    {
        var from = new Argument<string>("from") { Description = "The older version: NAME@N, NAME@IDPREFIX, NAME:TAG or NAME" };
        var to = new Argument<string>("to") { Description = "The newer version (may be of another image)" };
        var json = GlobalOptions.Json();
        var command = new Command("diff", """
            List what differs between two versions: added (+), removed (-) and modified (M) paths, with what changed
            (content, holes, target, device, mode, owner, xattrs, mtime, hardlinks).
            """)
        {
            from, to, json,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var (_, a) = images.Repository.Resolve(result.GetValue(from)!);
            var (_, b) = images.Repository.Resolve(result.GetValue(to)!);
            var changes = TreeDiff.Compare(images.Repository, a.Root, b.Root);
            if (result.GetValue(json))
            {
                JsonOutput.Write(VersionJson.Changes(changes));
                return ExitCodes.Success;
            }

            PrintChanges(changes);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>One line a change (+, -, M and what changed), then the counts on stderr: diff's and capture's.</summary>
    public static void PrintChanges(IReadOnlyList<PathChange> changes)
    {
        foreach (var c in changes)
        {
            var mark = c.Kind switch { ChangeKind.Added => "+", ChangeKind.Removed => "-", _ => "M" };
            var path = "/" + LinuxException.Printable(c.Path).TrimStart('/');
            var suffix = c.FileKind == Sidus.Linux.FileKind.Directory && path != "/" ? "/" : string.Empty;
            Console.WriteLine(c.What.Count == 0 ? $"{mark} {path}{suffix}" : $"{mark} {path}{suffix}  ({string.Join(", ", c.What)})");
        }

        Console.Error.WriteLine($"{changes.Count(c => c.Kind == ChangeKind.Added)} added, {changes.Count(c => c.Kind == ChangeKind.Removed)} removed, {changes.Count(c => c.Kind == ChangeKind.Modified)} modified");
    }
}
