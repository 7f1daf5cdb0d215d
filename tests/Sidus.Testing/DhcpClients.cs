using System.Text.RegularExpressions;

namespace Sidus.Testing;

/// <summary>Where a test's DHCP clients keep their files, and the server's log to show when a client gets nothing.</summary>
public interface IDhcpClientLab
{
    string TempFile(string name);

    string ServerLog { get; }
}

/// <summary>How the tests drive the real DHCP clients, each confined to a client namespace (interface
/// <see cref="Interface"/>) with private lease files and a script that only prints, so nothing on the host is ever
/// configured.</summary>
public static partial class DhcpClients
{
    /// <summary>The client's interface in its namespace.</summary>
    public const string Interface = "c0";

    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(40);

    /// <summary>What one client run reported (values as the client itself saw them).</summary>
    public sealed record Lease(string Address, string? Router, string? Dns, string? LeaseSeconds, string? BootFile, string? ServerId, string Raw);

    /// <summary>busybox udhcpc: one DISCOVER/REQUEST cycle, then quit (sending RELEASE when <paramref name="release"/>).</summary>
    public static Lease Udhcpc(IDhcpClientLab lab, NetworkNamespace client, string[]? extra = null, bool release = false, string? request = null)
    {
        var script = lab.TempFile($"udhcpc-{Guid.NewGuid():N}.sh");
        File.WriteAllText(script, "#!/bin/sh\necho \"EVENT $1 ip=$ip router=$router dns=$dns lease=$lease boot_file=$boot_file siaddr=$siaddr serverid=$serverid\"\n");
        ProcessRunner.RunChecked("chmod", ["700", script]);
        List<string> args = ["-i", Interface, "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", script, "-O", "bootfile"];
        if (release)
            args.Add("-R");
        if (request is not null)
            args.AddRange(["-r", request]);
        args.AddRange(extra ?? []);
        var result = client.Run(Tool.Require("udhcpc", "udhcpc"), args, ClientTimeout);
        var output = result.StandardOutput + result.StandardError;
        var bound = UdhcpcBound().Match(output);
        if (!result.Succeeded || !bound.Success)
            throw new InvalidOperationException($"udhcpc got no lease:\n{result}\n--- server log ---\n{lab.ServerLog}");
        string? Field(string name) => bound.Groups[name].Value is { Length: > 0 } v ? v : null;
        return new Lease(bound.Groups["ip"].Value, Field("router"), Field("dns"), Field("lease"), Field("boot"), Field("server"), output);
    }

    /// <summary>ISC dhclient: one attempt (-1) in the foreground; the lease is read back from its private lease file.</summary>
    public static Lease Dhclient(IDhcpClientLab lab, NetworkNamespace client, string leaseFile, string? config = null, TimeSpan? timeout = null)
    {
        var pidFile = leaseFile + ".pid";
        List<string> args = ["-1", "-v", "-sf", "/bin/true", "-lf", leaseFile, "-pf", pidFile];
        if (config is not null)
        {
            var configFile = leaseFile + ".conf";
            File.WriteAllText(configFile, config);
            args.AddRange(["-cf", configFile]);
        }
        args.Add(Interface);
        using var process = client.Start(Tool.Require("dhclient", "isc-dhcp-client"), [.. args, "-d"]);
        var bound = process.WaitForOutputAsync(o => o.Contains("bound to", StringComparison.Ordinal), timeout ?? ClientTimeout)
            .GetAwaiter().GetResult();
        process.Stop(TimeSpan.FromSeconds(3));
        if (!bound)
            throw new InvalidOperationException($"dhclient got no lease:\n{process.Output}\n--- server log ---\n{lab.ServerLog}");
        var text = File.ReadAllText(leaseFile);
        var last = text[text.LastIndexOf("lease {", StringComparison.Ordinal)..];
        string? Option(string name) => Regex.Match(last, $@"option {name} ([^;]+);") is { Success: true } m ? m.Groups[1].Value : null;
        var address = Regex.Match(last, @"fixed-address ([0-9.]+);").Groups[1].Value;
        var file = Regex.Match(last, "filename \"([^\"]*)\";") is { Success: true } f ? f.Groups[1].Value : null;
        return new Lease(address, Option("routers"), Option("domain-name-servers"), Option("dhcp-lease-time"), file,
            Option("dhcp-server-identifier"), process.Output + "\n" + last);
    }

    /// <summary>ISC dhclient -r: sends RELEASE (unicast, so the address is put on c0 first, as its script would have)
    /// for the lease in <paramref name="leaseFile"/>.</summary>
    public static CommandResult DhclientRelease(NetworkNamespace client, string leaseFile, string address)
    {
        client.Ip("addr", "add", address + "/24", "dev", Interface);
        return client.Run(Tool.Require("dhclient", "isc-dhcp-client"),
            ["-r", "-v", "-sf", "/bin/true", "-lf", leaseFile, "-pf", leaseFile + ".pid", Interface], ClientTimeout);
    }

    /// <summary>dhcpcd in test mode (-T): it reports the OFFER it got and configures nothing. Its state directories
    /// are covered by tmpfs inside the private mount namespace `ip netns exec` creates, so no file of the host
    /// changes either. dhcpcd 9.4.1 crashes (SIGSEGV) while exiting test mode after it printed the offer, with
    /// dnsmasq as the server too, so its exit code is not a verdict: the values it printed are.</summary>
    public static IReadOnlyDictionary<string, string> DhcpcdTest(IDhcpClientLab lab, NetworkNamespace client, params string[] extra)
    {
        var dhcpcd = Tool.Require("dhcpcd", "dhcpcd5");
        // Output goes to a file: dhcpcd's privilege-separation helpers outlive it and would hold a pipe open.
        var log = lab.TempFile($"dhcpcd-{Guid.NewGuid():N}.log");
        var command = "mount -t tmpfs tmpfs /var/lib/dhcpcd && mount -t tmpfs tmpfs /run && exec " + dhcpcd
            + " -T -4 -L -t 20 -f /dev/null " + string.Join(' ', extra) + " " + Interface + " >" + log + " 2>&1";
        var result = client.Run("/bin/sh", ["-c", command], ClientTimeout);
        var output = File.ReadAllText(log);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in DhcpcdVariable().Matches(output))
            values[m.Groups[1].Value] = m.Groups[2].Value.Trim('\'');
        if (!values.ContainsKey("new_ip_address"))
            throw new InvalidOperationException($"dhcpcd reported no offer (exit {result.ExitCode}):\n{output}\n--- server log ---\n{lab.ServerLog}");
        return values;
    }

    [GeneratedRegex(@"^(new_[a-z0-9_]+)=(.*)$", RegexOptions.Multiline)]
    private static partial Regex DhcpcdVariable();

    [GeneratedRegex(@"EVENT bound ip=(?<ip>\S+) router=(?<router>\S*) dns=(?<dns>\S*) lease=(?<lease>\S*) boot_file=(?<boot>\S*) siaddr=\S* serverid=(?<server>\S*)")]
    private static partial Regex UdhcpcBound();
}
