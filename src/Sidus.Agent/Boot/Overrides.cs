using System.Text;

namespace Sidus.Agent.Boot;

/// <summary>
/// The per-node layer written over the fetched root before it boots: /etc/hostname (sidus.hostname=), and a
/// oneshot unit that reports "up" to the server once systemd reaches multi-user.target (it runs this agent, kept in
/// /run/sidus, with "report up").
/// </summary>
internal static class Overrides
{
    public const string AgentCopy = "/run/sidus/agent";
    public const string UpMarker = "SIDUS-NODE-UP";

    public static void Apply(string root, KernelCommandLine line)
    {
        if (line.Hostname is { Length: > 0 } hostname)
        {
            File.WriteAllText(Path.Combine(root, "etc/hostname"), hostname + "\n");
        }

        var units = Path.Combine(root, "etc/systemd/system");
        var wants = Path.Combine(units, "multi-user.target.wants");
        Directory.CreateDirectory(wants);
        File.WriteAllText(Path.Combine(units, "sidus-up.service"), new StringBuilder()
            .Append("[Unit]\nDescription=Sidus: report that this node is up\nAfter=basic.target\n\n")
            .Append("[Service]\nType=oneshot\nExecStart=").Append(AgentCopy).Append(" report up\n")
            .Append("StandardOutput=journal+console\n")
            .ToString());
        var link = Path.Combine(wants, "sidus-up.service");
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, "../sidus-up.service");
        }
    }

    /// <summary>Keeps this binary where the booted system finds it (/run survives the switch).</summary>
    public static void KeepAgent()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(AgentCopy)!);
        File.Copy("/init", AgentCopy, overwrite: true);
        File.SetUnixFileMode(AgentCopy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }
}
