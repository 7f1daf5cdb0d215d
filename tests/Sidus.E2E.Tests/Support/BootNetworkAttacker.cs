using System.Globalization;
using System.Text.Json;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// An attacker on a serve boot's bridge: a second namespace with its own MAC and address, running (bounded in time)
/// what the security review did against the server while a real node boots: thousands of idle TCP connections to
/// HTTP and NBD, a TFTP request flood from many source ports, a DHCP DISCOVER flood from random MACs (perfdhcp), and
/// repeated tries at the booting node's script and override layer (its SSH host keys). The flood script prints a
/// summary line every few seconds; <see cref="Summary"/> reads the last one. A script answer that holds a boot ticket
/// is counted as "200-ticket".
/// </summary>
internal sealed class BootNetworkAttacker : IDisposable
{
    public const string Address = "10.77.0.66";

    /// <summary>Idle connections the attacker opens to HTTP and to NBD, before the node powers on.</summary>
    public const int IdleHttp = 4000;
    public const int IdleNbd = 2000;

    private const string Script = """
        import http.client, json, resource, socket, sys, time
        host, http_port, nbd_port, victim, seconds, idle_http, idle_nbd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
        resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
        held, failed = [], 0
        def hold(port, count):
            global failed
            for _ in range(count):
                s = socket.socket()
                s.setblocking(False)
                try:
                    s.connect_ex((host, port))
                    held.append(s)
                except OSError:
                    failed += 1
        hold(http_port, idle_http)
        hold(nbd_port, idle_nbd)
        grabs = {"overrides": {}, "script": {}}
        tftp_sent = 0
        def grab(kind, path):
            try:
                c = http.client.HTTPConnection(host, http_port, timeout=3)
                c.request("GET", path)
                response = c.getresponse()
                status = str(response.status) + ("-ticket" if b"ticket=" in response.read() else "")
                c.close()
            except Exception as e:
                status = type(e).__name__
            grabs[kind][status] = grabs[kind].get(status, 0) + 1
        end, last = time.time() + seconds, 0.0
        while time.time() < end:
            for _ in range(25):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.sendto(b"\x00\x01undionly.kpxe\x00octet\x00", (host, 69))
                u.close()
                tftp_sent += 1
            grab("overrides", "/api/nodes/" + victim + "/overrides.tar")
            grab("script", "/boot/" + victim.replace(":", "-") + ".ipxe")
            if time.time() - last > 3:
                last = time.time()
                print(json.dumps({"held": len(held), "failed": failed, "tftp": tftp_sent, "grabs": grabs}), flush=True)
            time.sleep(0.2)
        """;

    private readonly ClientNamespace _namespace;
    private readonly List<BackgroundProcess> _processes = [];
    private readonly string _floodLog;

    public BootNetworkAttacker(ServeBoot boot, int httpPort, int nbdPort, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(boot);
        _floodLog = Path.Combine(boot.Work, "attacker.log");
        _namespace = new ClientNamespace(boot.Namespace, "br0");
        try
        {
            var set = _namespace.Run(TimeSpan.FromSeconds(10), "ip", "addr", "add", Address + "/24", "dev", ClientNamespace.Interface);
            if (set.Code != 0)
            {
                throw new InvalidOperationException("the attacker's address: " + set.Output);
            }

            var seconds = ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            _processes.Add(new BackgroundProcess("ip",
                ["netns", "exec", _namespace.Name, "python3", "-c", Script, NetworkNamespace.HostAddress, Port(httpPort), Port(nbdPort),
                 boot.Mac, seconds, Port(IdleHttp), Port(IdleNbd)],
                _floodLog));
            var perfdhcp = Tool.Require("perfdhcp", "kea-admin");
            // DISCOVERs from 100,000 random MACs at 100/s: the pool holds 51 addresses. DISCOVER-OFFER only (-i): the
            // offers lapse within seconds, so no lease outlives the test in the fixture's shared home.
            _processes.Add(new BackgroundProcess("ip",
                ["netns", "exec", _namespace.Name, perfdhcp, "-4", "-i", "-l", ClientNamespace.Interface, "-r", "100", "-R", "100000",
                 "-p", seconds, NetworkNamespace.HostAddress],
                Path.Combine(boot.Work, "perfdhcp.log")));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The flood's last summary line: connections held, TFTP requests sent, and the statuses its grabs got.</summary>
    public JsonElement? Summary()
    {
        if (!File.Exists(_floodLog))
        {
            return null;
        }

        using var stream = new FileStream(_floodLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var last = new StreamReader(stream).ReadToEnd().Split('\n').LastOrDefault(l => l.StartsWith('{'));
        return last is null ? null : JsonDocument.Parse(last).RootElement.Clone();
    }

    /// <summary>Everything the flood printed (its errors included).</summary>
    public string Log => File.Exists(_floodLog) ? File.ReadAllText(_floodLog) : string.Empty;

    private static string Port(int value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        _namespace.Dispose();
    }
}
