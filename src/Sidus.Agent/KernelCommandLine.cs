namespace Sidus.Agent;

/// <summary>
/// The agent's arguments on this machine's kernel command line (<see cref="AgentKernelArguments"/>). An installed node
/// boots its disk with no sidus.* arguments: there they come from what the install left (<see cref="InstalledNode"/>:
/// the server, the MAC and the name in /etc/sidus/agent.conf, the version in /var/lib/sidus/version).
/// </summary>
internal static class KernelCommandLine
{
    public static AgentKernelArguments Read()
    {
        var line = AgentKernelArguments.Parse(File.ReadAllText("/proc/cmdline"));
        return line.Server is null && Installed() is { } installed ? installed : line;
    }

    /// <summary>The installed node's settings as kernel arguments, or null on a node that is not installed.</summary>
    public static AgentKernelArguments? Installed(string root = "")
    {
        string text;
        try
        {
            text = File.ReadAllText(root + InstalledNode.SettingsFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (InstalledNode.Settings.Parse(text, out var problem) is not { } settings)
        {
            AgentConsole.Fail($"{InstalledNode.SettingsFile}: {problem}");
            return null;
        }

        var version = File.Exists(root + InstalledNode.VersionFile) ? File.ReadAllText(root + InstalledNode.VersionFile).Trim().Split(' ') : [];
        return new AgentKernelArguments
        {
            Server = settings.Server,
            Mac = settings.Mac,
            Node = settings.Node,
            Hostname = settings.Node,
            Mode = BootMode.Install,
            Image = version.Length > 0 ? version[0] : null,
            ImageRef = version.Length > 1 ? version[1] : null,
        };
    }
}
