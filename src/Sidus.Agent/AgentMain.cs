using System.Net.Http;
using Sidus.Agent.Boot;
using Sidus.Agent.Fetch;
using Sidus.Agent.Modules;
using Sidus.Agent.Network;

namespace Sidus.Agent;

/// <summary>
/// The node agent's boot: kernel filesystems, drivers, network by DHCP, root for the node's mode, overrides,
/// switch to the image's init. Each stage is said on the console and reported to the server. A failing stage is
/// retried with backoff, forever and never silently: init must not exit (the kernel would panic) and a node that
/// cannot boot should say why until someone looks.
/// </summary>
internal static class AgentMain
{
    private const string NewRoot = "/newroot";
    private const string ImageInit = "/sbin/init";
    private const int DhcpAttemptsPerRound = 6;
    private static readonly TimeSpan LinkWait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// <see cref="BootAsync"/> as init: an exception that escapes it would end PID 1 and panic the kernel with a
    /// stack trace nobody can act on, so it is said on the console as the reason this node cannot boot.
    /// </summary>
    public static async Task<int> BootAsInitAsync()
    {
        try
        {
            return await BootAsync();
        }
        catch (Exception e)
        {
            return await StopAsync($"the agent failed unexpectedly: {e.GetType().Name}: {e.Message}");
        }
    }

    public static async Task<int> BootAsync()
    {
        var clock = Stopwatch.StartNew();
        AgentConsole.Say("starting (Sidus node agent)");
        EarlyMounts.MountAll();
        var line = KernelCommandLine.Read();
        using var http = NewHttpClient();
        var reporter = new EventReporter(http);
        await reporter.ReportAsync(NodeEventStages.Agent, "started");
        if (line.Server is null || line.Image is null)
        {
            return await StopAsync($"the kernel command line needs {AgentKernelArguments.Names.Server}=http://HOST:PORT and {AgentKernelArguments.Names.Image}=VERSIONID");
        }

        if (line.Problem is { } malformed)
        {
            return await StopAsync(malformed);
        }

        if (line.ModeOrDefault is not (BootMode.Ram or BootMode.Shared or BootMode.Install))
        {
            return await StopAsync($"{AgentKernelArguments.Names.Mode}={line.ModeOrDefault.ToText()} is not supported by this agent (ram, shared and install are)");
        }

        if ((line.ModeOrDefault is BootMode.Shared or BootMode.Install || line.RamFromExport) && SharedRoot.Check(line) is { } wrong)
        {
            return await StopAsync(wrong);
        }

        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var modules = new ModuleLoader(release);
        var loaded = modules.LoadForDevices();
        AgentConsole.Say($"kernel {release}: loaded {loaded.Count} drivers for the devices present ({string.Join(' ', loaded)})");
        await reporter.ReportAsync(NodeEventStages.Agent, $"drivers: {string.Join(' ', loaded)}");

        var (name, mac) = await FindInterfaceAsync(line.Mac);
        RouteNetlink.SetLinkUp(NetworkInterfaces.IndexOf("lo"));
        RouteNetlink.SetLinkUp(NetworkInterfaces.IndexOf(name));
        var lease = await LeaseAsync(name, mac);
        var index = NetworkInterfaces.IndexOf(name);
        RouteNetlink.AddAddress(index, lease.Address, lease.PrefixLength);
        if (lease.Router is { } router)
        {
            RouteNetlink.AddDefaultRoute(index, router);
        }

        AgentConsole.Say($"{name} ({mac}): {lease.Address}/{lease.PrefixLength} from {lease.ServerId}, router {lease.Router?.ToString() ?? "none"}, lease {lease.LeaseSeconds} s");

        // First thing on the network: this boot's ticket becomes the session every later request carries (the
        // events queued so far go out with it). Without one (a command line written by hand) the agent asks without a
        // credential: `sidus serve` refuses that, a server that does not check answers.
        if (line.Ticket is { } ticket)
        {
            try
            {
                await AgentSession.ClaimAsync(http, line.Server, ticket);
            }
            catch (UnbootableException e)
            {
                return await StopAsync(e.Message);
            }

            AgentConsole.Say("claimed this boot's session");
        }
        else
        {
            AgentConsole.Say($"no {AgentKernelArguments.Names.Ticket} on the kernel command line: asking the server without a node credential");
        }

        reporter.Mac = mac;
        reporter.Server = line.Server;
        await reporter.ReportAsync(NodeEventStages.Agent, $"lease {lease.Address}/{lease.PrefixLength} on {name} from {lease.ServerId} after {clock.Elapsed.TotalSeconds:F1} s");

        if (line.ModeOrDefault == BootMode.Install)
        {
            return await InstallAsync(line, http, reporter, modules, release);
        }

        Directory.CreateDirectory(NewRoot);
        string detail;
        try
        {
            detail = line.ModeOrDefault == BootMode.Shared || line.RamFromExport
                ? await SharedRoot.AssembleAsync(line, modules, reporter, NewRoot)
                : await RamRootAsync(line, http, reporter);
        }
        catch (UnbootableException e)
        {
            await reporter.ReportAsync(NodeEventStages.Failed, e.Message);
            return await StopAsync(e.Message);
        }

        AgentConsole.Say("root ready: " + detail);
        await reporter.ReportAsync(NodeEventStages.Root, "ready: " + detail);
        await Overrides.ApplyAsync(NewRoot, line, http, reporter);
        Overrides.KeepAgent();
        AgentConsole.Say($"switching to {ImageInit} of the image after {clock.Elapsed.TotalSeconds:F1} s");
        await reporter.ReportAsync(NodeEventStages.Agent, $"switching root after {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            RootSwitch.Switch(NewRoot, ImageInit);
        }
        catch (IOException e)
        {
            return await StopAsync($"switching to the image's init failed: {e.Message}");
        }

        return 0;
    }

    /// <summary>
    /// Mode install: the version onto the node's disks (<see cref="Install.Installer"/>), then a reboot into them. A
    /// refusal (the layout does not fit, the image lacks a tool) stops here with the reason on the console and at
    /// the server, as any boot that cannot go on: nothing preserved was touched.
    /// </summary>
    private static async Task<int> InstallAsync(AgentKernelArguments line, HttpClient http, EventReporter reporter, ModuleLoader modules, string release)
    {
        string detail;
        try
        {
            detail = await Install.Installer.RunAsync(line, http, reporter, modules, release);
        }
        catch (Exception e) when (e is Install.InstallException or UnbootableException or IOException or LinuxException)
        {
            await reporter.ReportAsync(NodeEventStages.Failed, "install: " + e.Message);
            return await StopAsync("install: " + e.Message);
        }

        AgentConsole.Say(detail + "; rebooting into the disk");
        await reporter.ReportAsync(NodeEventStages.Root, detail + "; rebooting into the disk");
        ProcessRoot.Reboot();
        return 0;
    }

    /// <summary>Ram mode's root: the version synced into a tmpfs on the new root, every file verified.</summary>
    private static async Task<string> RamRootAsync(AgentKernelArguments line, HttpClient http, EventReporter reporter)
    {
        Mounts.Mount("tmpfs", NewRoot, "tmpfs", 0, $"mode=0755,size={line.RootSizeOrDefault}");
        var fetcher = new RootFetcher(http, line.Server!, reporter);
        AgentConsole.Say($"ram mode: fetching version {line.Image} from {line.Server} into tmpfs");
        FetchStats stats;
        while (true)
        {
            try
            {
                stats = await fetcher.FetchAsync(line.Image!, line.Manifest, NewRoot);
                break;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // A bad manifest or a local write failure: start over on a clean tmpfs after a pause.
                AgentConsole.Fail($"laying out the root failed: {e.Message}; starting over in 30 s");
                await reporter.ReportAsync(NodeEventStages.Failed, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(30));
                Mounts.Unmount(NewRoot);
                Mounts.Mount("tmpfs", NewRoot, "tmpfs", 0, $"mode=0755,size={line.RootSizeOrDefault}");
            }
        }

        return $"{stats.Files} files, {stats.Bytes / 1048576.0:F1} MiB verified in {stats.Elapsed.TotalSeconds:F1} s ({stats.Requests} requests; " +
            $"data {stats.Data.TotalSeconds:F1} s, hashing {stats.Hashing.TotalSeconds:F1} s and writing {stats.Writing.TotalSeconds:F1} s summed over threads)";
    }

    /// <summary>"report STAGE DETAIL" from the booted system: one event (without DETAIL: the host name and how the root
    /// is made), then exit.</summary>
    public static Task<int> ReportAsync(string stage, string detail) => ReportAsync(new NodeEvent(
        stage, detail.Length > 0 ? detail : NodeFacts.Add(new UpReport { Host = File.ReadAllText("/proc/sys/kernel/hostname").Trim() }).Detail()));

    public static async Task<int> ReportAsync(NodeEvent report)
    {
        var line = KernelCommandLine.Read();
        var (_, mac) = await FindInterfaceAsync(line.Mac);
        using var http = NewHttpClient();
        var reporter = new EventReporter(http) { Server = line.Server, Mac = mac };
        await reporter.ReportAsync(report);
        AgentConsole.Say($"{UpReport.Marker}: reported '{report.Stage}' to {line.Server}");
        return 0;
    }

    private static async Task<AcquiredLease> LeaseAsync(string name, string mac)
    {
        var macBytes = Convert.FromHexString(mac.Replace(":", string.Empty, StringComparison.Ordinal));
        var backoff = new Backoff(2, 30);
        while (true)
        {
            if (await DhcpClient.AcquireAsync(name, macBytes, DhcpAttemptsPerRound) is { } lease)
            {
                return lease;
            }

            var wait = backoff.Next();
            AgentConsole.Fail($"no DHCP lease on {name} ({mac}) after {DhcpAttemptsPerRound} attempts; trying again in {wait.TotalSeconds:F0} s");
            await Task.Delay(wait);
        }
    }

    /// <summary>The boot interface: the one with MAC when given, else the first Ethernet interface (by name).</summary>
    internal static async Task<(string Name, string Mac)> FindInterfaceAsync(string? wanted)
    {
        var clock = Stopwatch.StartNew();
        var backoff = new Backoff(0.25, 2);
        while (true)
        {
            var candidates = Directory.Exists("/sys/class/net")
                ? Directory.EnumerateDirectories("/sys/class/net")
                    .Where(d => File.Exists(Path.Combine(d, "type")) && File.ReadAllText(Path.Combine(d, "type")).Trim() == "1")
                    .Select(d => (Name: Path.GetFileName(d), Mac: File.ReadAllText(Path.Combine(d, "address")).Trim()))
                    .OrderBy(c => c.Name, StringComparer.Ordinal)
                    .ToList()
                : [];
            var pick = wanted is null ? candidates.FirstOrDefault() : candidates.FirstOrDefault(c => c.Mac == wanted);
            if (pick.Name is not null)
            {
                return pick;
            }

            if (clock.Elapsed > LinkWait)
            {
                AgentConsole.Fail($"no Ethernet interface{(wanted is null ? string.Empty : " with MAC " + wanted)} (have: {string.Join(", ", candidates.Select(c => c.Name + " " + c.Mac))}); is the NIC's driver in the image's kernel?");
                clock.Restart();
            }

            await backoff.WaitAsync();
        }
    }

    private static async Task<int> StopAsync(string why)
    {
        // Init cannot exit: say why, over and over, so the console shows it whenever someone looks.
        while (true)
        {
            AgentConsole.Fail(why + " — this node cannot boot; fix it and power-cycle the node");
            await Task.Delay(TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>The agent's HTTP client, carrying this boot's session once it is claimed (<see cref="AgentSession"/>).</summary>
    internal static HttpClient NewHttpClient()
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseProxy = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        })
        {
            Timeout = TimeSpan.FromSeconds(120),
        };
        AgentSession.Load();
        AgentSession.Use(http);
        return http;
    }
}
