using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sidus.E2E.Tests.Support;
using Sidus.Nodes.Overrides;
using Xunit.Abstractions;

namespace Sidus.E2E.Tests;

/// <summary>
/// The Debian package as an administrator meets it: built by packaging/build-deb, installed with apt-get into an
/// image Sidus builds (bookworm with systemd), and that image booted in a VM (QEMU tcg, diskless, ram mode). In the
/// VM the packaged service is configured the way an administrator would (/etc/sidus/sidus.toml, from the node's
/// override layer) to serve full DHCP and HTTP on the VM's second NIC, started with systemctl (Type=notify: the
/// start returns once sidus said READY), seen running, asked from outside the VM by a real DHCP client (udhcpc)
/// and curl on that network, reloaded, stopped, and its journal read back.
/// </summary>
public sealed class PackageVmTests(BootImageFixture fixture, ITestOutputHelper output) : IClassFixture<BootImageFixture>
{
    private const string Hostname = "pkgvm";
    private const string ServiceInterface = "svc0";
    private const string ServiceAddress = "10.78.0.1";
    private const string PoolFirst = "10.78.0.100";
    private const string PoolLast = "10.78.0.150";
    private const string CheckUnit = "sidus-e2e-check.service";
    private const string CheckScript = "/usr/local/sbin/sidus-e2e-check";
    private const string MissingPath = "/sidus-e2e-no-such-path";
    private const string StopRecord = "/run/sidus-e2e-stop";

    /// <summary>Power-on to the service started: the boot (every file of the image into RAM) and the start, under tcg.</summary>
    private static readonly TimeSpan StartedLimit = TimeSpan.FromMinutes(8);

    /// <summary>The go-ahead to the end of the check: reload, stop (the unit allows 30 s) and the journal.</summary>
    private static readonly TimeSpan StoppedLimit = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ClientLimit = TimeSpan.FromSeconds(40);

    /// <summary>A clean stop is sidus ending by itself on SIGTERM, long before systemd would kill it.</summary>
    private static readonly TimeSpan CleanStopLimit = TimeSpan.FromSeconds(15);

    [VmFact]
    public void Package_InstalledInVm_ServiceStartsReadyAnswersDhcpAndHttpAndStopsCleanly()
    {
        var work = TestWorkDirectory.Create("sidus-e2e-package-");
        try
        {
            var package = PackageImage.Get(fixture, work);
            output.WriteLine($"{package.DebName} ({package.DebSha256[..12]}): built in {package.BuildTime.TotalSeconds:F0} s; image {PackageImage.Image}@{package.Version.Short} " +
                             (package.FromCache ? "reused (same .deb)" : $"made in {package.InstallTime.TotalSeconds:F0} s (apt-get install)"));
            using var vm = new ServiceNetworkVm(fixture, package.Version, package.Boot, Hostname);
            output.WriteLine(TestWorkDirectory.Describe(vm.Work));
            vm.PowerOn(Overrides(vm.ServiceMac));
            CheckStarted(vm, package);
            CheckServes(vm);
            vm.Control.Send("stop");
            var end = vm.Control.WaitForLine(l => l == "end", StoppedLimit);
            output.WriteLine($"power-on to the check's end: {vm.Clock.Elapsed.TotalSeconds:F1} s");
            output.WriteLine("control port:\n" + vm.Control.Transcript);
            Assert.True(end is not null, Failure(vm, $"the check did not end within {StoppedLimit} of the go-ahead"));
            CheckReloadedAndStopped(vm);
            CheckJournal(vm);
        }
        finally
        {
            // Only the .deb is there (the VM's logs are in its own folder, kept with SIDUS_TEST_KEEP=1).
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The package is installed, and `systemctl start` came back with sidus running and ready.</summary>
    private void CheckStarted(ServiceNetworkVm vm, PackageImage package)
    {
        var waiting = vm.Control.WaitForLine(l => l is "waiting" or "end", StartedLimit);
        output.WriteLine($"power-on to sidus started (systemctl start returned): {vm.Clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(waiting == "waiting", Failure(vm, $"the check did not report sidus started within {StartedLimit}"));
        var installed = Tagged(vm, "package");
        Assert.True(installed.Count == 1 && installed[0] == $"sidus {package.PackageVersion} installed", Failure(vm, "the VM does not run the package just built"));
        Assert.True(Said(vm, "start exit=") == "0", Failure(vm, "systemctl start sidus failed"));
        output.WriteLine($"systemctl start (until READY=1) took {Said(vm, "start exit=0 ms=")} ms");
        var started = Properties(vm, "started");
        output.WriteLine("after systemctl start: " + string.Join(", ", started.Select(p => $"{p.Key}={p.Value}")));
        Assert.True(started.GetValueOrDefault("ActiveState") == "active" && started.GetValueOrDefault("SubState") == "running",
            Failure(vm, "sidus is not active/running after systemctl start"));
        Assert.Equal("notify", started.GetValueOrDefault("Type"));
        // The status sidus sent with READY=1 names what it serves, as configured.
        Assert.True(started.GetValueOrDefault("StatusText", string.Empty).Contains($"DHCP full on {ServiceInterface}", StringComparison.Ordinal),
            Failure(vm, "sidus's status does not say it serves full DHCP on " + ServiceInterface));
        Assert.NotEqual("0", started.GetValueOrDefault("MainPID", "0"));
        Assert.StartsWith("/", started.GetValueOrDefault("FragmentPath", string.Empty), StringComparison.Ordinal);

        // DHCP on the service NIC (its name set by the image's .link file) and HTTP, held by the service's process.
        var listening = Tagged(vm, "listening").Where(l => l.Contains("\"sidus\"", StringComparison.Ordinal)).ToList();
        Assert.True(listening.Any(l => l.StartsWith("udp", StringComparison.Ordinal) && l.Contains(":67 ", StringComparison.Ordinal)),
            Failure(vm, "sidus does not listen on UDP 67"));
        Assert.True(listening.Any(l => l.StartsWith("tcp", StringComparison.Ordinal) && l.Contains(":80 ", StringComparison.Ordinal)),
            Failure(vm, "sidus does not listen on TCP 80"));
    }

    /// <summary>A machine on the VM's network gets a lease from the pool, and the HTTP answers.</summary>
    private void CheckServes(ServiceNetworkVm vm)
    {
        var lease = Udhcpc(vm);
        output.WriteLine($"udhcpc on the service network: lease {lease.Address} from {lease.Server}");
        Assert.Equal(ServiceAddress, lease.Server);
        Assert.InRange(ToNumber(lease.Address), ToNumber(PoolFirst), ToNumber(PoolLast));

        // The client takes its address as udhcpc's own script would have, then asks HTTP over that network.
        var add = vm.Client.Run(ClientLimit, "ip", "address", "add", lease.Address + "/24", "dev", ClientNamespace.Interface);
        Assert.True(add.Code == 0, add.Output);
        var chain = Curl(vm, "/boot/ipxe");
        Assert.StartsWith("#!ipxe", chain, StringComparison.Ordinal);
        Assert.StartsWith("ok inventory ", Curl(vm, "/healthz"), StringComparison.Ordinal);

        // The inventory is not for anyone on the boot network: the API's reads need an admin token.
        var statusUrl = $"http://{ServiceAddress}/api/status";
        var (statusCode, statusText) = vm.Client.Run(ClientLimit, Tool.Require("curl", "curl"), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", statusUrl);
        Assert.True(statusCode == 0 && statusText == "401", Failure(vm, $"GET {statusUrl} without a token: expected 401, got ({statusCode}) {statusText}"));

        // A refused request: sidus logs it as a warning, which the journal must keep as one (checked after the stop).
        var url = $"http://{ServiceAddress}{MissingPath}";
        var (code, text) = vm.Client.Run(ClientLimit, Tool.Require("curl", "curl"), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", url);
        Assert.True(code == 0 && text == "404", Failure(vm, $"GET {url}: expected 404, got ({code}) {text}"));
    }

    /// <summary>Reload kept the same process running; stop ended it by its own exit with status 0, in time.</summary>
    private void CheckReloadedAndStopped(ServiceNetworkVm vm)
    {
        var started = Properties(vm, "started");
        Assert.True(Said(vm, "reload exit=") == "0", Failure(vm, "systemctl reload sidus failed"));
        var reloaded = Properties(vm, "reloaded");
        Assert.True(reloaded.GetValueOrDefault("ActiveState") == "active" && reloaded.GetValueOrDefault("SubState") == "running",
            Failure(vm, "sidus is not active/running after systemctl reload"));
        Assert.Equal(started.GetValueOrDefault("MainPID"), reloaded.GetValueOrDefault("MainPID"));

        Assert.True(Said(vm, "stop exit=") == "0", Failure(vm, "systemctl stop sidus failed"));
        var stopMs = int.Parse(Said(vm, "stop exit=0 ms=") ?? "-1", CultureInfo.InvariantCulture);
        output.WriteLine($"systemctl stop took {stopMs} ms");
        Assert.InRange(stopMs, 0, (int)CleanStopLimit.TotalMilliseconds);
        var stopped = Tagged(vm, "stopped");
        output.WriteLine("after systemctl stop: " + string.Join(", ", stopped));
        Assert.Contains("ActiveState=inactive", stopped);
        // As systemd saw the main process end (the drop-in's ExecStopPost): it exited by itself with status 0
        // (code=killed status=TERM would be the signal's default action ending it), and the unit's result is success.
        Assert.True(stopped.Contains("result=success code=exited status=0"), Failure(vm, "sidus did not exit cleanly on stop"));
    }

    /// <summary>The service's lines reached the journal with priorities, none at error or worse.</summary>
    private void CheckJournal(ServiceNetworkVm vm)
    {
        var entries = new List<(int Priority, string Identifier, string Message)>();
        foreach (var line in Tagged(vm, "journal"))
        {
            using var entry = JsonDocument.Parse(line);
            var root = entry.RootElement;
            var priority = root.TryGetProperty("PRIORITY", out var p) && p.ValueKind == JsonValueKind.String ? int.Parse(p.GetString()!, CultureInfo.InvariantCulture) : -1;
            var identifier = root.TryGetProperty("SYSLOG_IDENTIFIER", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : string.Empty;
            var message = root.TryGetProperty("MESSAGE", out var m) ? (m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText()) : string.Empty;
            entries.Add((priority, identifier, message));
        }

        output.WriteLine($"journal of sidus.service ({entries.Count} entries):");
        foreach (var (priority, identifier, message) in entries)
        {
            output.WriteLine($"  <{priority}> {identifier}: {message}");
        }

        // sidus's own lines carry their level as journald reads it: the refused request is a warning (4), the
        // listeners' start information (6). Not every line at 6, as a plain stdout would give.
        var own = entries.Where(e => e.Identifier == "sidus").ToList();
        Assert.True(own.Count > 0, Failure(vm, "no journal entry from sidus itself"));
        Assert.Contains(own, e => e.Priority == 4 && e.Message.Contains("Refused GET " + MissingPath, StringComparison.Ordinal));
        Assert.Contains(own, e => e.Priority == 6 && e.Message.Contains("HTTP listening on", StringComparison.Ordinal));
        // The client is no node: full mode leased to it, and the line names the policy that decided it boots nothing.
        Assert.Contains(own, e => e.Message.Contains("DHCP ACK", StringComparison.Ordinal) && e.Message.Contains("unknown machine", StringComparison.Ordinal) && e.Message.Contains("policy ignore", StringComparison.Ordinal) && e.Message.EndsWith("no boot", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.InRange(e.Priority, 0, 7));
        var errors = entries.Where(e => e.Priority <= 3).ToList();
        Assert.True(errors.Count == 0, Failure(vm, "error lines in the journal:\n" + string.Join('\n', errors.Select(e => $"<{e.Priority}> {e.Identifier}: {e.Message}"))));
    }

    /// <summary>What the node's override layer carries: the service's configuration, the service NIC's name, and
    /// the check (a unit started once the node is up, and its script).</summary>
    private static IReadOnlyList<OverrideFile> Overrides(string serviceMac)
    {
        var config = $"""
            # The package test's network, on the VM's second NIC: full DHCP (Sidus owns it) and HTTP.
            [[interface]]
            name = "{ServiceInterface}"
            dhcp = "full"
            pools = ["{PoolFirst}-{PoolLast}"]

            """;
        var link = $"[Match]\nMACAddress={serviceMac}\n\n[Link]\nName={ServiceInterface}\n";

        // How the main process ended, kept where the check reads it: once stopped, systemd may unload the unit and
        // forget its ExecMain* properties. The packaged unit is otherwise used as it is.
        var stopRecord = "[Service]\nExecStopPost=/bin/sh -c 'echo \"result=$$SERVICE_RESULT code=$$EXIT_CODE status=$$EXIT_STATUS\" > " + StopRecord + "'\n";
        var unit = $"""
            [Unit]
            Description=Sidus package test: start sidus.service, report, stop it when the test says
            After=sidus-up.service

            [Service]
            Type=exec
            ExecStart={CheckScript}
            StandardOutput=journal+console
            StandardError=journal+console

            [Install]
            WantedBy=multi-user.target

            """;
        return
        [
            Text("etc/sidus/sidus.toml", config, 0x1A4),
            Text("etc/systemd/network/10-sidus-e2e-service.link", link, 0x1A4),
            Text("etc/systemd/system/sidus.service.d/sidus-e2e-stop.conf", stopRecord, 0x1A4),
            Text("etc/systemd/system/" + CheckUnit, unit, 0x1A4),
            new("etc/systemd/system/multi-user.target.wants/" + CheckUnit, OverrideKind.Symlink, [], 0x1FF, 0, 0, OverrideOrigins.Node, LinkTarget: "../" + CheckUnit),
            Text(CheckScript.TrimStart('/'), Script(), 0x1ED),
        ];
    }

    private static OverrideFile Text(string path, string text, uint mode) =>
        new(path, OverrideKind.File, Encoding.UTF8.GetBytes(text), mode, 0, 0, OverrideOrigins.Node);

    /// <summary>
    /// The check, in the VM. It writes "TAG text" lines on the test's control port (a virtio serial port, kept open
    /// the whole time) and waits there for the test's go-ahead line.
    /// </summary>
    private static string Script() => $$"""
        #!/bin/sh
        # Sidus package test (tests/Sidus.E2E.Tests/PackageVmTests.cs): start sidus.service, report, stop it on the
        # test's word, report. Lines go to the test on a virtio serial port.
        port=/dev/virtio-ports/{{ServiceNetworkVm.ControlPortName}}
        modprobe virtio_console 2>/dev/null
        n=0
        until [ -e $port ] || [ $n -ge 60 ]; do n=$((n + 1)); sleep 1; done
        exec 3<>$port
        say() { printf '%s\n' "$*" >&3; }
        each() { tag=$1; shift; "$@" 2>&1 | while IFS= read -r line; do say "$tag $line"; done; }
        ms() { echo $(( $(date +%s%N) / 1000000 )); }
        say begin
        each package dpkg-query -W -f '${Package} ${Version} ${db:Status-Status}\n' sidus
        n=0
        until ip link show {{ServiceInterface}} >/dev/null 2>&1 || [ $n -ge 60 ]; do n=$((n + 1)); sleep 1; done
        ip address add {{ServiceAddress}}/24 dev {{ServiceInterface}}
        ip link set {{ServiceInterface}} up
        each net ip -brief address show {{ServiceInterface}}
        t=$(ms); systemctl start sidus.service; code=$?
        say "start exit=$code ms=$(( $(ms) - t ))"
        each started systemctl show sidus.service -p ActiveState -p SubState -p Type -p StatusText -p MainPID -p FragmentPath
        each listening ss -Hlnptu
        say waiting
        go=$(timeout 300 head -n 1 <&3)
        say "go $go"
        t=$(ms); systemctl reload sidus.service; code=$?
        say "reload exit=$code ms=$(( $(ms) - t ))"
        sleep 2
        each reloaded systemctl show sidus.service -p ActiveState -p SubState -p StatusText -p MainPID
        t=$(ms); systemctl stop sidus.service; code=$?
        say "stop exit=$code ms=$(( $(ms) - t ))"
        each stopped systemctl show sidus.service -p ActiveState
        each stopped cat {{StopRecord}}
        journalctl --sync
        each journal journalctl -u sidus.service -o json --no-pager --output-fields=PRIORITY,MESSAGE,SYSLOG_IDENTIFIER,_PID
        say end

        """;

    /// <summary>busybox udhcpc in the client namespace: one exchange, its script only printing what it got.</summary>
    private (string Address, string Server) Udhcpc(ServiceNetworkVm vm)
    {
        var script = Path.Combine(vm.Work, "udhcpc.sh");
        File.WriteAllText(script, "#!/bin/sh\necho \"EVENT $1 ip=$ip serverid=$serverid\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (code, text) = vm.Client.Run(ClientLimit, Tool.Require("udhcpc", "udhcpc"), "-i", ClientNamespace.Interface, "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", script);
        var bound = text.Split('\n').FirstOrDefault(l => l.StartsWith("EVENT bound ", StringComparison.Ordinal));
        Assert.True(code == 0 && bound is not null, Failure(vm, $"udhcpc got no lease on the VM's network ({code}):\n{text}"));
        string Field(string name) => bound!.Split(' ').First(w => w.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        return (Field("ip"), Field("serverid"));
    }

    /// <summary>GET PATH from the VM's sidus, from the client namespace; returns the body.</summary>
    private static string Curl(ServiceNetworkVm vm, string path)
    {
        var url = $"http://{ServiceAddress}{path}";
        var (code, text) = vm.Client.Run(ClientLimit, Tool.Require("curl", "curl"), "-sS", "--fail", "--max-time", "20", url);
        Assert.True(code == 0, Failure(vm, $"curl {url} failed ({code}): {text}"));
        return text;
    }

    /// <summary>The lines the check wrote with TAG, without it.</summary>
    private static List<string> Tagged(ServiceNetworkVm vm, string tag) =>
        [.. vm.Control.Lines.Where(l => l.StartsWith(tag + " ", StringComparison.Ordinal)).Select(l => l[(tag.Length + 1)..])];

    /// <summary>`systemctl show` lines the check wrote with TAG, as properties.</summary>
    private static Dictionary<string, string> Properties(ServiceNetworkVm vm, string tag) =>
        Tagged(vm, tag).Where(l => l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);

    /// <summary>The word after PREFIX in the check's first line that starts with it ("start exit=" -> "0").</summary>
    private static string? Said(ServiceNetworkVm vm, string prefix) =>
        vm.Control.Lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line ? line[prefix.Length..].Split(' ')[0] : null;

    private static uint ToNumber(string address) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());

    /// <summary>A failure message with what the VM said: the control port's lines and the console's end.</summary>
    private static string Failure(ServiceNetworkVm vm, string what) =>
        $"{what}\n--- control port ---\n{vm.Control.Transcript}\n--- console (ttyS0), last 8000 characters ---\n{ServeBoot.Tail(vm.Serial, 8000)}\n{TestWorkDirectory.Describe(vm.Work)}";
}
