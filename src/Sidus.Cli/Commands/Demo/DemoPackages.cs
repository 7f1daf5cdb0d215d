namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// The Debian packages the demo needs, read from the lists `./sidus demo` installs them from (tools/packages/demo.txt,
/// and boot.txt for the network boot; embedded at build), so a sidus run another way names the same packages.
/// </summary>
internal static class DemoPackages
{
    public const string StoreList = "demo.txt";
    public const string BootList = "boot.txt";

    /// <summary>What every demo needs (its store steps).</summary>
    public static IReadOnlyList<string> Store => Read(StoreList);

    /// <summary>What the network boot adds.</summary>
    public static IReadOnlyList<string> Boot => Read(BootList);

    /// <summary>The packages of the demo's store steps, and of its network boot when <paramref name="boot"/>.</summary>
    public static IReadOnlyList<string> Needed(bool boot) => boot ? [.. Store, .. Boot] : Store;

    /// <summary>The command that installs them all (apt-get skips those already installed).</summary>
    public static string InstallCommand(bool boot) => "apt-get install --no-install-recommends " + string.Join(' ', Needed(boot));

    /// <summary>The first word of every line that is not blank or a # comment.</summary>
    private static List<string> Read(string list) =>
        EmbeddedText.Read("packages/" + list).Split('\n')
            .Select(line => line.Trim())
            .Where(text => text.Length > 0 && text[0] != '#')
            .Select(text => text.Split([' ', '\t'], 2)[0])
            .ToList();
}
