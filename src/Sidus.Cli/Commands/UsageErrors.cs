using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Sidus.Cli.Commands;

/// <summary>
/// A command line sidus cannot run, told in one line and a hint ("did you mean 'sidus node status'?", "see 'sidus
/// node --help'") instead of the parser's screenful of help; under --json as one JSON error line.
/// </summary>
public static partial class UsageErrors
{
    private const int FarthestTypo = 2;

    /// <summary>Reports the first of PARSED's errors and returns the exit code for a bad command line.</summary>
    public static int Report(ParseResult parsed)
    {
        var (message, hint) = Describe(parsed);
        CliError.Write(message, hint);
        return ExitCodes.Usage;
    }

    public static (string Message, string Hint) Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var path = CommandPath(parsed.CommandResult);
        var help = $"see '{path} --help'";
        if ((parsed.UnmatchedTokens.FirstOrDefault() ?? StrayOption(parsed)) is { } unknown)
        {
            var isOption = unknown.StartsWith('-');
            var candidates = isOption
                ? Enumerable.Concat(command.Options, Ancestors(parsed.CommandResult).SelectMany(c => c.Options.Where(o => o.Recursive)))
                    .Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
            var what = isOption ? "option" : command.Subcommands.Count > 0 ? "command" : "argument";
            var message = $"'{path}' has no {what} '{unknown}'";
            return Closest(unknown, candidates) is { } guess
                ? (message, $"did you mean '{path} {guess}'? ({help})")
                : (message, help);
        }

        var error = parsed.Errors[0];
        if (command.Action is null && command.Subcommands.Count > 0)
        {
            return ($"'{path}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}", help);
        }

        return (Plainer(error), help);
    }

    /// <summary>
    /// A "--word" the parser took as a value of an argument that takes many ("node status --wacth" asks for a node
    /// named --wacth): a misspelt option, unless it comes after "--" (image exec NAME -- CMD --ARGS).
    /// </summary>
    public static string? StrayOption(ParseResult parsed)
    {
        var argumentTokens = parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)
            .ToHashSet<System.CommandLine.Parsing.Token>(ReferenceEqualityComparer.Instance);
        foreach (var token in parsed.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                return null;
            }

            if (argumentTokens.Contains(token) && token.Value.StartsWith("--", StringComparison.Ordinal) && token.Value.Length > 2)
            {
                return token.Value;
            }
        }

        return null;
    }

    /// <summary>The parser's message without .NET type names ("as expected type 'System.Int32'").</summary>
    private static string Plainer(ParseError error)
    {
        var message = error.Message.TrimEnd('.');
        var match = ExpectedType().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var helpName = error.SymbolResult switch
        {
            OptionResult o => o.Option.HelpName,
            ArgumentResult a => a.Argument.HelpName,
            _ => null,
        };
        var expected = helpName ?? match.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt16" => "a whole number",
            "System.Double" => "a number",
            "System.Boolean" => "true or false",
            _ => "another value",
        };
        return message[..match.Index] + $": expected {expected}";
    }

    private static IEnumerable<Command> Ancestors(CommandResult result)
    {
        for (var parent = result.Parent as CommandResult; parent is not null; parent = parent.Parent as CommandResult)
        {
            yield return parent.Command;
        }
    }

    private static string CommandPath(CommandResult result) =>
        string.Join(' ', Ancestors(result).Reverse().Append(result.Command).Select(c => c is RootCommand ? "sidus" : c.Name));

    /// <summary>The candidate nearest to what was typed: a prefix of it, or at most two edits away.</summary>
    private static string? Closest(string typed, IEnumerable<string> candidates)
    {
        var best = candidates.Distinct(StringComparer.Ordinal)
            .Select(c => (Name: c, Distance: c.StartsWith(typed, StringComparison.Ordinal) ? 0 : Sidus.Linux.Typos.Distance(typed, c)))
            .Where(c => c.Distance <= FarthestTypo)
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name;
    }


    [GeneratedRegex(@" as expected type '(?<type>[^']+)'")]
    private static partial Regex ExpectedType();
}
