namespace Sidus.Cli.Rendering;

/// <summary>
/// --help that fits its terminal, and 80 columns in a pipe: descriptions are written wrapped at about 110 columns in
/// the code, so each paragraph's lines are joined here and the help builder wraps them again at its width. The
/// conventions are the man pages' (<see cref="Commands.Docs.ManPage"/>): a blank line ends a paragraph, indented
/// lines (examples) stay as they are, and "Exit codes:" starts a line of its own.
/// </summary>
public static class HelpText
{
    /// <summary>Sets every description under ROOT to its filled form, and the help's width.</summary>
    public static void Fit(RootCommand root)
    {
        if (root.Options.OfType<System.CommandLine.Help.HelpOption>().FirstOrDefault()?.Action is System.CommandLine.Help.HelpAction help)
        {
            help.MaxWidth = Console.IsOutputRedirected ? 80 : OutputStyle.Current.Width;
        }

        Fill(root);
    }

    /// <summary>DESCRIPTION with the lines of each paragraph joined by a space.</summary>
    public static string? Filled(string? description)
    {
        if (description is null || !description.Contains('\n', StringComparison.Ordinal))
        {
            return description;
        }

        var text = new StringBuilder();
        var joinable = false;
        foreach (var line in description.Trim('\n').Split('\n'))
        {
            var paragraph = line.Length > 0 && !line.StartsWith(' ') && !line.StartsWith("Exit codes:", StringComparison.Ordinal);
            if (joinable && paragraph)
            {
                text.Append(' ').Append(line.TrimEnd());
            }
            else
            {
                text.Append(text.Length == 0 ? string.Empty : "\n").Append(line.TrimEnd());
            }

            joinable = line.Trim().Length > 0 && !line.StartsWith(' ');
        }

        return text.ToString();
    }

    private static void Fill(Command command)
    {
        command.Description = Filled(command.Description);
        foreach (var option in command.Options)
        {
            option.Description = Filled(option.Description);
        }

        foreach (var argument in command.Arguments)
        {
            argument.Description = Filled(argument.Description);
        }

        foreach (var sub in command.Subcommands)
        {
            Fill(sub);
        }
    }
}
