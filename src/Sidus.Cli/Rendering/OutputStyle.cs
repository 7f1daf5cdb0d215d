namespace Sidus.Cli.Rendering;

/// <summary>
/// How this run prints: plain (tab-separated tables, nothing cut, for awk and pipes) or for a terminal (aligned
/// columns cut to its width), with or without the header row, and whether failures are JSON (--json).
/// Set once by the program from the parsed command line; read by the renderers.
/// </summary>
public sealed record OutputStyle(bool Plain, bool Headers, int Width, bool JsonErrors)
{
    /// <summary>What a bare run gets: plain when standard output is not a terminal.</summary>
    public static OutputStyle Current { get; set; } = new(Console.IsOutputRedirected, Headers: true, TerminalWidth(), JsonErrors: false);

    /// <summary>The style the command line asked for (--plain, --no-headers, --json) on this standard output.</summary>
    public static OutputStyle For(ParseResult parsed)
    {
        var json = parsed.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--json") is Option<bool> option
            && parsed.GetValue(option);
        return new OutputStyle(
            Plain: Console.IsOutputRedirected || parsed.GetValue(Commands.GlobalOptions.Plain),
            Headers: !parsed.GetValue(Commands.GlobalOptions.NoHeaders),
            Width: TerminalWidth(),
            JsonErrors: json);
    }

    private static int TerminalWidth()
    {
        if (Console.IsOutputRedirected)
        {
            return int.MaxValue;
        }

        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
