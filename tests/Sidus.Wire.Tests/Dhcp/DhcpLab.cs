using Microsoft.Extensions.Logging;
using Sidus.Wire.Dhcp;
using Sidus.Testing;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>A private network for DHCP tests: the server's namespace with bridge br0 at 10.77.0.1/24, and one
/// namespace per client joined to the bridge by a veth whose client end (c0) has a chosen MAC. The Sidus server runs
/// in this process with its sockets created inside the server namespace.</summary>
internal sealed class DhcpLab : IDisposable
{
    public const string Bridge = "br0";
    public const string ClientInterface = "c0";
    public static readonly Ip4 ServerAddress = Ip4.Parse("10.77.0.1");
    public static readonly DhcpPool Pool = DhcpPool.Parse("10.77.0.100-10.77.0.150");

    private readonly List<NetworkNamespace> _clients = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("sidus-dhcp-lab-").FullName;
    private DhcpServer? _server;
    private CancellationTokenSource? _stop;
    private Task? _running;
    private int _ports;

    public DhcpLab()
    {
        ServerNs = NetworkNamespace.Create("sdhcp");
        ServerNs.AddBridge(Bridge, "10.77.0.1/24");
    }

    public NetworkNamespace ServerNs { get; }

    public string LeaseFile => Path.Combine(_directory, "leases.journal");

    public TestLog Log { get; } = new();

    public DhcpServer Server => _server ?? throw new InvalidOperationException("The server is not running.");

    public DhcpServerOptions DefaultOptions(DhcpMode mode = DhcpMode.Full) => new()
    {
        Mode = mode,
        InterfaceName = Bridge,
        ServerAddress = ServerAddress,
        SubnetMask = Ip4.MaskFromPrefix(24),
        Router = Ip4.Parse("10.77.0.254"),
        DnsServers = [Ip4.Parse("10.77.0.53")],
        DomainName = "lab.test",
        LeaseTime = TimeSpan.FromMinutes(10),
        Pools = mode == DhcpMode.Full ? [Pool] : [],
        LeaseFile = mode == DhcpMode.Full ? LeaseFile : null,
        ScriptUrlTemplate = "http://{server}:8080/boot/{mac}.ipxe",
    };

    /// <summary>Starts (or restarts) the Sidus server with <paramref name="options"/>.</summary>
    public DhcpServer StartServer(DhcpServerOptions options, IDhcpNodeSource? nodes = null)
    {
        StopServer();
        var server = new DhcpServer(options, nodes ?? new StaticDhcpNodeSource(), Log);
        ServerNs.Invoke(server.Bind);
        _stop = new CancellationTokenSource();
        _running = server.RunAsync(_stop.Token);
        _server = server;
        return server;
    }

    public void StopServer()
    {
        if (_server is null)
            return;
        _stop!.Cancel();
        var stopped = _running!.Wait(TimeSpan.FromSeconds(10));
        _server.Dispose();
        if (!stopped)
            throw new TimeoutException("The DHCP server did not stop within 10 s.");
        _stop.Dispose();
        _server = null;
    }

    /// <summary>A new client namespace whose c0 interface has <paramref name="mac"/>, joined to the bridge.</summary>
    public NetworkNamespace AddClient(string mac, string? cidr = null)
    {
        var ns = NetworkNamespace.Create("sdcli");
        _clients.Add(ns);
        var port = $"p{_ports++}-{ns.Name[^4..]}";
        ServerNs.ConnectVeth(port, null, ns, ClientInterface, cidr, localBridge: Bridge, peerMac: mac);
        return ns;
    }

    public string TempFile(string name) => Path.Combine(_directory, name);

    public void Dispose()
    {
        try
        {
            StopServer();
        }
        finally
        {
            foreach (var client in _clients)
                client.Dispose();
            ServerNs.Dispose();
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>Collects the server's log lines so tests can assert on its decisions and print them on failure.</summary>
internal sealed class TestLog : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return _lines.ToList();
        }
    }

    public override string ToString() => string.Join('\n', Lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
