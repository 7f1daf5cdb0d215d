using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands;

/// <summary>
/// sidus.toml as every verb reads it: `sidus serve`, the inventory verbs and `node render` find the same file by the
/// same rule and take the same settings from it, so the CLI and the server never work on different inventories.
/// </summary>
public static class SidusConfig
{
    /// <summary>The file to read: the one given, else &lt;home&gt;/sidus.toml, else /etc/sidus/sidus.toml; null when none is there.</summary>
    public static string? FindFile(string home, string? given) =>
        given ?? new[] { Path.Combine(home, "sidus.toml"), ServeConfigFile.SystemPath }.FirstOrDefault(File.Exists);

    /// <summary>The settings of the file (or the defaults for HOME when there is none); a bad file throws <see cref="ServeConfigException"/>.</summary>
    public static ServeOptions Read(ParseResult r, string? given = null)
    {
        var options = new ServeOptions { Home = GlobalOptions.ResolveHome(r) };
        return FindFile(options.Home, given) is { } file
            ? ServeConfigFile.Load(file, options) with { ConfigFile = Path.GetFullPath(file) }
            : options;
    }
}
