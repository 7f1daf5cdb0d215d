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

        return await SidusCommand.Create().Parse(args).InvokeAsync();
    }
}
