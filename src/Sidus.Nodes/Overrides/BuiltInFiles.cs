namespace Sidus.Nodes.Overrides;

/// <summary>
/// The files Sidus writes for every node before the override trees (which may replace any of them): hostname, hosts,
/// machine-id, SSH host keys, resolv.conf (when DHCP's DNS servers are known) and the unit that reports "up".
/// </summary>
public static class BuiltInFiles
{
    /// <summary>Where the node agent keeps itself for the booted system (the initramfs's /run survives the switch).</summary>
    public const string AgentCopy = "/run/sidus/agent";

    public const string UpUnitPath = "etc/systemd/system/sidus-up.service";
    public const string UpUnitLink = "etc/systemd/system/multi-user.target.wants/sidus-up.service";
    public const string AgentUnitPath = "etc/systemd/system/sidus-agent.service";
    public const string AgentUnitLink = "etc/systemd/system/multi-user.target.wants/sidus-agent.service";
    private const uint Public = 0x1A4; // 0644
    private const uint Private = 0x180; // 0600

    public static IEnumerable<OverrideFile> For(RenderContext context, NodeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(identity);
        var node = context.Node;
        yield return Text("etc/hostname", node.Name + "\n");
        yield return Text("etc/hosts", Hosts(context));
        yield return Text("etc/machine-id", identity.MachineId + "\n", 0x124); // 0444, as systemd leaves it
        foreach (var key in identity.HostKeys)
        {
            var name = "etc/ssh/" + NodeSecrets.KeyFileName(key.Type);
            yield return new OverrideFile(name, OverrideKind.File, key.PrivateKey, Private, 0, 0, OverrideOrigins.Generated, Secret: true);
            yield return new OverrideFile(name + ".pub", OverrideKind.File, key.PublicKey, Public, 0, 0, OverrideOrigins.Generated);
        }

        if (context.Site.Dns.Count > 0)
        {
            var resolv = new StringBuilder("# written by Sidus for ").Append(node.Name).Append('\n');
            if (context.Domain is { } domain)
            {
                resolv.Append("search ").Append(domain).Append('\n');
            }

            foreach (var dns in context.Site.Dns)
            {
                resolv.Append("nameserver ").Append(dns).Append('\n');
            }

            yield return Text("etc/resolv.conf", resolv.ToString());
        }

        // An installed node keeps the agent on its disk; a diskless one has the copy the initramfs left in /run.
        var installed = context.Settings.Mode.Value == BootMode.Install;
        var agent = installed ? InstalledNode.AgentPath : AgentCopy;
        foreach (var file in UpUnitFiles(agent))
        {
            yield return file;
        }

        yield return Text(AgentUnitPath, AgentUnit(agent));
        yield return new OverrideFile(AgentUnitLink, OverrideKind.Symlink, [], 0x1FF, 0, 0, OverrideOrigins.Generated, LinkTarget: "../sidus-agent.service");
        if (installed)
        {
            foreach (var file in InstalledFiles(context.Settings.KernelArgs.Value ?? string.Empty))
            {
                yield return file;
            }
        }
    }

    public const string NetworkPath = "etc/systemd/network/20-sidus-dhcp.network";
    public const string GrubDefaultsPath = "etc/default/grub.d/90-sidus.cfg";

    /// <summary>
    /// What an installed node needs that a diskless one gets from its initramfs: its network by DHCP from the boot
    /// network (systemd-networkd, enabled here, with network-online waiting for it), and the node's kernel arguments
    /// in GRUB's settings, so the installed bootloader boots with them (a serial console, for instance). In the layer,
    /// so an update re-applies them and never reports them as drift.
    /// </summary>
    public static IEnumerable<OverrideFile> InstalledFiles(string kernelArgs)
    {
        ArgumentNullException.ThrowIfNull(kernelArgs);
        yield return Text(NetworkPath, "# written by Sidus: the installed node's network, by DHCP on its wired links\n[Match]\nType=ether\n\n[Network]\nDHCP=yes\n");
        yield return Link("etc/systemd/system/multi-user.target.wants/systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service");
        yield return Link("etc/systemd/system/sockets.target.wants/systemd-networkd.socket", "/lib/systemd/system/systemd-networkd.socket");
        yield return Link("etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service", "/lib/systemd/system/systemd-networkd-wait-online.service");
        var grub = new StringBuilder("# written by Sidus: the node's kernel arguments (sidus node set NODE --kernel-args)\n")
            .Append("GRUB_CMDLINE_LINUX=\"").Append(ShellQuoted(kernelArgs)).Append("\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"\"\nGRUB_TIMEOUT=2\nGRUB_DISABLE_OS_PROBER=true\n");
        if (kernelArgs.Contains("console=ttyS", StringComparison.Ordinal))
        {
            grub.Append("GRUB_TERMINAL=\"console serial\"\nGRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n");
        }

        yield return Text(GrubDefaultsPath, grub.ToString());

        static string ShellQuoted(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("$", "\\$", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal);
    }

    private static OverrideFile Link(string path, string target) =>
        new(path, OverrideKind.Symlink, [], 0x1FF, 0, 0, OverrideOrigins.Generated, LinkTarget: target);

    /// <summary>The "up" unit and the link that enables it: the least layer a node boots with.</summary>
    public static IEnumerable<OverrideFile> UpUnitFiles(string agent = AgentCopy) =>
    [
        Text(UpUnitPath, UpUnit(agent)),
        new OverrideFile(UpUnitLink, OverrideKind.Symlink, [], 0x1FF, 0, 0, OverrideOrigins.Generated, LinkTarget: "../sidus-up.service"),
    ];

    /// <summary>/etc/hosts: localhost, the node itself, then every inventory node that has a fixed address.</summary>
    public static string Hosts(RenderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var domain = context.Domain;
        string Names(Node n) => domain is null ? n.Name : $"{n.Name}.{domain} {n.Name}";
        var sb = new StringBuilder("# written by Sidus\n127.0.0.1\tlocalhost\n");
        if (context.Node.Ip is null)
        {
            // Debian's convention for a host without a fixed address: its name resolves without the network.
            sb.Append("127.0.1.1\t").Append(Names(context.Node)).Append('\n');
        }

        sb.Append("::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\n");
        foreach (var n in context.Inventory.Nodes.Where(n => n.Ip is not null).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            sb.Append(n.Ip).Append('\t').Append(Names(n)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The oneshot unit that tells the server the booted system is up (the agent's "report up").</summary>
    public static string UpUnit(string agent = AgentCopy) =>
        "[Unit]\nDescription=Sidus: report that this node is up\nAfter=basic.target network.target network-online.target\nWants=network-online.target\n\n" +
        $"[Service]\nType=oneshot\nExecStart={agent} report up\nStandardOutput=journal+console\n";

    /// <summary>
    /// The long-running agent service: waits on the server for the admin's requests (`sidus node apply-overrides`)
    /// with this boot's session. Restarted when it stops (a server that refused, a crash), never in a tight loop.
    /// </summary>
    public static string AgentUnit(string agent = AgentCopy) =>
        "[Unit]\nDescription=Sidus: carry out the server's requests to this node\nAfter=network.target sidus-up.service\n\n" +
        $"[Service]\nExecStart={agent} service\nRestart=always\nRestartSec=30\nStandardOutput=journal+console\n\n" +
        "[Install]\nWantedBy=multi-user.target\n";

    private static OverrideFile Text(string path, string text, uint mode = Public) =>
        new(path, OverrideKind.File, Encoding.UTF8.GetBytes(text), mode, 0, 0, OverrideOrigins.Generated);
}
