namespace Sidus.Cli.Commands;

/// <summary>Options every verb understands.</summary>
public static class GlobalOptions
{
    public static readonly Option<string?> Home = new("--home")
    {
        Description = "Sidus data directory (default: $SIDUS_HOME, else /var/lib/sidus as root, ~/.local/share/sidus otherwise)",
        Recursive = true,
        HelpName = "DIR",
    };

    public static readonly Option<bool> Plain = new("--plain")
    {
        Description = "Tables without alignment or cutting: one row a line, cells separated by a tab (the default when output is not a terminal)",
        Recursive = true,
    };

    public static readonly Option<bool> NoHeaders = new("--no-headers")
    {
        Description = "Tables without their header row",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print the result as JSON for scripts" };

    /// <summary>The data directory the user chose, or the default for who runs the command.</summary>
    public static string ResolveHome(ParseResult result)
    {
        var home = result.GetValue(Home);
        if (!string.IsNullOrEmpty(home))
        {
            return Path.GetFullPath(home);
        }

        var env = Environment.GetEnvironmentVariable("SIDUS_HOME");
        if (!string.IsNullOrEmpty(env))
        {
            return Path.GetFullPath(env);
        }

        if (FileOps.IsRoot)
        {
            return "/var/lib/sidus";
        }

        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return string.IsNullOrEmpty(dataHome)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local/share/sidus")
            : Path.Combine(dataHome, "sidus");
    }
}
