using System.CommandLine.Parsing;

namespace Sidus.Cli.Commands;

/// <summary>
/// Parses an option whose value is one of an enum's members, written in lower case; a wrong value is refused with
/// the allowed ones listed (never the enum's .NET type name).
/// </summary>
public static class Choice
{
    public static Option<T> Option<T>(string name, params string[] aliases)
        where T : struct, Enum
    {
        var allowed = Enum.GetValues<T>().Select(v => v.ToString().ToLowerInvariant()).ToArray();
        var option = new Option<T>(name, aliases)
        {
            HelpName = string.Join('|', allowed),
            CustomParser = result => Parse<T>(result, name, allowed),
        };
        option.CompletionSources.Clear();
        option.CompletionSources.Add(allowed);
        return option;
    }

    private static T Parse<T>(ArgumentResult result, string name, string[] allowed)
        where T : struct, Enum
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && allowed.Contains(text.ToLowerInvariant()))
        {
            return value;
        }

        result.AddError($"'{text}' is not a value of {name}: use {string.Join(", ", allowed)}");
        return default;
    }
}
