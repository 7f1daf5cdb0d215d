namespace Sidus.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = SidusCommand.Create();
        Rendering.HelpText.Fit(root);
        var parsed = root.Parse(args);
        Rendering.OutputStyle.Current = Rendering.OutputStyle.For(parsed);
        if ((parsed.Errors.Count > 0 || Commands.UsageErrors.StrayOption(parsed) is not null) && !AsksForHelp(parsed))
        {
            return Commands.UsageErrors.Report(parsed);
        }

        var invocation = new InvocationConfiguration();
        if (parsed.CommandResult.Command.Name == "serve")
        {
            // The server stops on SIGTERM by itself, letting running transfers finish (bounded).
            invocation.ProcessTerminationTimeout = Commands.Serve.ServeCommand.TerminationTimeout;
        }

        return await parsed.InvokeAsync(invocation);
    }

    /// <summary>`sidus node --help` with other mistakes on the line still shows the help that was asked for.</summary>
    private static bool AsksForHelp(ParseResult parsed) =>
        parsed.Tokens.Any(t => t.Value is "--help" or "-h" or "-?");
}
