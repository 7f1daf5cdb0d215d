namespace Sidus.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Tables piped to a file or a pager keep one row per line.
            Spectre.Console.AnsiConsole.Profile.Width = 250;
        }

        var parsed = SidusCommand.Create().Parse(args);
        var invocation = new InvocationConfiguration();
        if (parsed.CommandResult.Command.Name == "serve")
        {
            // The server stops on SIGTERM by itself, letting running transfers finish (bounded).
            invocation.ProcessTerminationTimeout = Commands.Serve.ServeCommand.TerminationTimeout;
        }

        return await parsed.InvokeAsync(invocation);
    }
}
