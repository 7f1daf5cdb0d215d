namespace Sidus.Cli.Commands.Docs;

/// <summary>`sidus manpages DIR`: one man page per command (sidus.1, sidus-image.1, sidus-image-build.1, ...).</summary>
public static class ManPagesCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("directory") { Description = "Where to write the pages (created if missing)", HelpName = "DIR" };
        var json = GlobalOptions.Json();
        var command = new Command("manpages", """
            Write the man pages of every sidus command, generated from the same definitions as --help, into DIR
            (section 1; the Debian package installs them in /usr/share/man/man1). The pages' date is
            $SOURCE_DATE_EPOCH when set, so a package build is reproducible.
            """)
        {
            directory,
            json,
        };
        command.SetAction(result =>
        {
            var target = Path.GetFullPath(result.GetValue(directory)!);
            try
            {
                Directory.CreateDirectory(target);
                var paths = CommandPath.Walk(SidusCommand.Create());
                var version = typeof(ManPagesCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
                var written = new JsonArray();
                foreach (var path in paths)
                {
                    var file = Path.Combine(target, ManPage.FileName(path));
                    AtomicFile.WriteText(file, ManPage.Render(path, paths, PageDate(), version));
                    written.Append(JsonValue.Create(file));
                }

                if (result.GetValue(json))
                {
                    JsonOutput.Write(new JsonObject { ["directory"] = target, ["pages"] = written });
                }
                else
                {
                    Console.WriteLine($"wrote {written.Count} man pages to {target}");
                }

                return ExitCodes.Success;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CliError.Write($"cannot write the man pages to {target}: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>The date in the pages' title line: SOURCE_DATE_EPOCH (reproducible builds), else today.</summary>
    private static string PageDate()
    {
        var epoch = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        var when = long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.UtcNow;
        return when.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }
}
