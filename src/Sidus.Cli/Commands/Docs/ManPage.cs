namespace Sidus.Cli.Commands.Docs;

/// <summary>
/// A man page in section 1 (man(7) macros) for one command of the tree: name, synopsis, description, subcommands,
/// arguments, options and related pages, all taken from the command's own definition.
/// </summary>
public static class ManPage
{

    /// <summary>The page's text; <paramref name="date"/> and <paramref name="version"/> go in its title line.</summary>
    public static string Render(CommandPath path, IReadOnlyList<CommandPath> all, string date, string version)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(all);
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $".TH \"{path.PageName.ToUpperInvariant()}\" 1 \"{date}\" \"sidus {Escape(version)}\" \"Sidus Manual\"\n");
        page.Append(".SH NAME\n");
        page.Append(CultureInfo.InvariantCulture, $"{Escape(path.PageName)} \\- {Escape(Summary(path.Command.Description))}\n");

        page.Append(".SH SYNOPSIS\n");
        page.Append(CultureInfo.InvariantCulture, $".B {Escape(path.Text)}\n");
        if (path.Subcommands.Any())
        {
            page.Append("\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n");
        }
        else
        {
            page.Append("[\\fIOPTIONS\\fR]");
            foreach (var argument in path.Arguments)
            {
                page.Append(' ').Append(Synopsis(argument));
            }

            page.Append('\n');
        }

        page.Append(".SH DESCRIPTION\n");
        Paragraphs(page, path.Command.Description);

        if (path.Subcommands.Any())
        {
            page.Append(".SH COMMANDS\n");
            foreach (var sub in path.Subcommands)
            {
                page.Append(CultureInfo.InvariantCulture, $".TP\n.B {Escape(sub.Name)}\n{Escape(Summary(sub.Description))}\n");
                page.Append(CultureInfo.InvariantCulture, $".br\nSee \\fB{Escape(path.PageName)}\\-{Escape(sub.Name)}\\fR(1).\n");
            }
        }

        if (path.Arguments.Any())
        {
            page.Append(".SH ARGUMENTS\n");
            foreach (var argument in path.Arguments)
            {
                page.Append(CultureInfo.InvariantCulture, $".TP\n{Synopsis(argument)}\n");
                Paragraphs(page, argument.Description);
            }
        }

        if (path.Options.Count > 0)
        {
            page.Append(".SH OPTIONS\n");
            foreach (var option in path.Options)
            {
                page.Append(".TP\n").Append(OptionTerm(option)).Append('\n');
                Paragraphs(page, option.Description);
                var choices = CommandPath.Choices(option);
                if (choices.Count > 0)
                {
                    page.Append(CultureInfo.InvariantCulture, $"One of: {Escape(string.Join(", ", choices))}.\n");
                }
            }
        }

        page.Append(".SH SEE ALSO\n");
        var related = all.Where(p => p != path && (IsParent(p, path) || IsParent(path, p) || p.Words.Count == 1))
            .Select(p => $"\\fB{Escape(p.PageName)}\\fR(1)")
            .Distinct();
        page.Append(string.Join(",\n", related)).Append('\n');
        return page.ToString();
    }

    /// <summary>The file name of a command's page: "sidus-image-build.1".</summary>
    public static string FileName(CommandPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.PageName + ".1";
    }

    /// <summary>Text made safe for roff: backslashes, hyphens (so that options stay searchable and copyable), and a
    /// leading dot or quote that would read as a request.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var escaped = text.Replace("\\", "\\e", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal);
        return escaped.StartsWith('.') || escaped.StartsWith('\'') ? "\\&" + escaped : escaped;
    }

    private static bool IsParent(CommandPath parent, CommandPath child) =>
        parent.Words.Count + 1 == child.Words.Count && child.Words.Take(parent.Words.Count).SequenceEqual(parent.Words);

    private static string Synopsis(Argument argument)
    {
        var name = $"\\fI{Escape((argument.HelpName ?? argument.Name).ToUpperInvariant())}\\fR";
        var many = argument.Arity.MaximumNumberOfValues > 1 ? "..." : string.Empty;
        return argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}{many}]" : name + many;
    }

    private static string OptionTerm(Option option)
    {
        var names = string.Join(", ", CommandPath.Names(option).Select(n => $"\\fB{Escape(n)}\\fR"));
        return CommandPath.IsFlag(option)
            ? names
            : $"{names} \\fI{Escape(option.HelpName ?? option.Name.TrimStart('-').ToUpperInvariant())}\\fR";
    }

    /// <summary>A description's first sentence: the NAME line (what whatis and apropos show).</summary>
    private static string Summary(string? description)
    {
        var text = string.Join(' ', (description ?? string.Empty).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var end = text.IndexOf(". ", StringComparison.Ordinal);
        var sentence = (end < 0 ? text : text[..end]).TrimEnd('.');
        return sentence;
    }

    /// <summary>
    /// A description as roff: its lines filled into paragraphs, a blank line between paragraphs, and indented lines
    /// (the examples in --help) kept as they are.
    /// </summary>
    private static void Paragraphs(StringBuilder page, string? description)
    {
        var example = false;
        foreach (var line in (description ?? string.Empty).Trim('\n').Split('\n'))
        {
            var indented = line.StartsWith(' ');
            if (indented != example)
            {
                page.Append(indented ? ".PP\n.RS 4\n.nf\n" : ".fi\n.RE\n");
                example = indented;
            }

            page.Append(line.Trim().Length == 0 ? ".PP" : Escape(indented ? line.Trim() : line.TrimEnd())).Append('\n');
        }

        if (example)
        {
            page.Append(".fi\n.RE\n");
        }
    }
}
