namespace Sidus.Wire.Contracts;

/// <summary>
/// What an installed node keeps on its own disk for its agent (docs/installed-nodes.md): written by the install, read
/// by <c>sidus-agent service</c>, <c>update</c> and <c>drift</c> after every local boot. None of it is in the image:
/// every sync (install, update) leaves these paths alone.
/// </summary>
public static class InstalledNode
{
    /// <summary>The node's own files: its key and its agent's settings.</summary>
    public const string ConfigDirectory = "/etc/sidus";

    /// <summary>The node's key (mode 0600): its credential once installed, sent as <c>Authorization: Bearer</c>
    /// (<see cref="NodeCredentials"/>). It outlives boots; <c>sidus node revoke</c> ends it.</summary>
    public const string KeyFile = ConfigDirectory + "/node.key";

    /// <summary>The agent's settings, <c>key = value</c> lines (<see cref="Settings"/>).</summary>
    public const string SettingsFile = ConfigDirectory + "/agent.conf";

    /// <summary>What the agent records between runs: the state cache of the last sync, the installed version.</summary>
    public const string StateDirectory = "/var/lib/sidus";

    /// <summary>The state cache of the last sync (what it left, with stat data): a no-op update is a stat walk, and
    /// drift is what changed since. One file whatever the root's mount point (the install writes at /target, the
    /// updates at /).</summary>
    public const string StateCacheFile = StateDirectory + "/sync.state";

    /// <summary>The excludes of the last complete sync, one a line: with them unchanged, a node at its version
    /// whose state cache shows no change at all is not synced again (its update is a stat walk).</summary>
    public const string ExcludesFile = StateDirectory + "/sync.excludes";

    /// <summary>The version the disk holds: one line, <c>VERSIONID IMAGE@SEQ</c>.</summary>
    public const string VersionFile = StateDirectory + "/version";

    /// <summary>The agent itself on an installed node (its units find it here, or at /run/sidus/agent on a diskless one).</summary>
    public const string AgentPath = StateDirectory + "/agent";

    /// <summary>Paths no sync writes, deletes or reports as drift, whatever the image holds: the node's own state.</summary>
    public static readonly IReadOnlyList<string> AlwaysKept = [ConfigDirectory, StateDirectory];

    /// <summary>The agent's settings on an installed node.</summary>
    /// <param name="Server">The server's URL (http://HOST:PORT).</param>
    /// <param name="Mac">The boot MAC, colon form: the node's identity on the server's routes.</param>
    /// <param name="Node">The node's name in the inventory (for messages).</param>
    public sealed record Settings(string Server, string Mac, string Node)
    {
        public string Format() => $"server = {Server}\nmac = {Mac}\nnode = {Node}\n";

        /// <summary>Reads <see cref="Format"/>'s text; null with PROBLEM set when a setting is missing or unreadable.</summary>
        public static Settings? Parse(string text, out string? problem)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var raw in (text ?? string.Empty).Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    problem = $"'{line}' is not 'key = value'";
                    return null;
                }

                values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }

            foreach (var key in new[] { "server", "mac", "node" })
            {
                if (!values.TryGetValue(key, out var value) || value.Length == 0)
                {
                    problem = $"no '{key} =' line";
                    return null;
                }
            }

            problem = null;
            return new Settings(values["server"], values["mac"], values["node"]);
        }
    }
}
