namespace Sidus.Cli.Commands.Docs;

/// <summary>
/// One visible command of the tree with everything its documentation needs: the words that reach it, the options it
/// accepts (its own and those its ancestors pass down), its arguments and its subcommands. Hidden symbols are left out.
/// </summary>
public sealed record CommandPath(IReadOnlyList<string> Words, Command Command, IReadOnlyList<Option> Options)
{
    /// <summary>"sidus image build".</summary>
    public string Text => string.Join(' ', Words);

    /// <summary>"sidus-image-build": the man page's name.</summary>
    public string PageName => string.Join('-', Words);

    public IEnumerable<Command> Subcommands => Command.Subcommands.Where(c => !c.Hidden);

    public IEnumerable<Argument> Arguments => Command.Arguments.Where(a => !a.Hidden);

    /// <summary>Every visible command under <paramref name="root"/>, the root first, parents before children.</summary>
    public static IReadOnlyList<CommandPath> Walk(RootCommand root, string executable = "sidus")
    {
        ArgumentNullException.ThrowIfNull(root);
        var paths = new List<CommandPath>();
        Visit(root, [executable], [], paths);
        return paths;
    }

    /// <summary>True when the option is a flag: it takes no value (a bool option's value is optional and never
    /// written).</summary>
    public static bool IsFlag(Option option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool);
    }

    /// <summary>The spellings users type: short ones first, the DOS-style "/?" of the help option left out.</summary>
    public static IReadOnlyList<string> Names(Option option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return new[] { option.Name }.Concat(option.Aliases)
            .Where(n => n.StartsWith('-'))
            .Distinct()
            .OrderBy(n => n.StartsWith("--", StringComparison.Ordinal))
            .ThenBy(n => n, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The fixed values an option accepts (an enum, a list of choices); empty when any value goes.</summary>
    public static IReadOnlyList<string> Choices(Option option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return IsFlag(option)
            ? []
            : option.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Select(c => c.Label).ToArray();
    }

    /// <summary>The fixed values an argument accepts; empty when any value goes.</summary>
    public static IReadOnlyList<string> Choices(Argument argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        return argument.ValueType == typeof(string) || argument.ValueType.IsEnum
            ? argument.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Select(c => c.Label).ToArray()
            : [];
    }

    private static void Visit(Command command, List<string> words, IReadOnlyList<Option> inherited, List<CommandPath> paths)
    {
        var options = inherited.Concat(command.Options.Where(o => !o.Hidden))
            .DistinctBy(o => o.Name)
            .ToList();
        paths.Add(new CommandPath(words.ToArray(), command, options));
        var passedDown = options.Where(o => o.Recursive).ToList();
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
        {
            Visit(sub, [.. words, sub.Name], passedDown, paths);
        }
    }
}
