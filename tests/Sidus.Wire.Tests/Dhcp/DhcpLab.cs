using Microsoft.Extensions.Logging;
using Sidus.Wire.Dhcp;
using Sidus.Testing;

namespace Sidus.Wire.Tests.Dhcp;

/// <summary>A private network for DHCP tests (<see cref="DhcpTestNetwork"/>: the server's namespace with bridge br0 at
/// 10.77.0.1/24, a namespace per client); the Sidus server runs in this process with its sockets created inside the
/// server namespace.</summary>
internal sealed class DhcpLab : IDhcpClientLab, IDisposable
{
    public const string Bridge = "br0";
    public const string ClientInterface = DhcpClients.Interface;
    public static readonly Ip4 ServerAddress = Ip4.Parse("10.77.0.1");
    public static readonly DhcpPool Pool = DhcpPool.Parse("10.77.0.100-10.77.0.150");

    private readonly DhcpTestNetwork _network = new(Bridge, "10.77.0.1/24");
    private DhcpServer? _server;
    private CancellationTokenSource? _stop;
    private Task? _running;

    public NetworkNamespace ServerNs => _network.ServerNs;

    public string LeaseFile => Path.Combine(_network.Directory, "leases.journal");

    public TestLog Log { get; } = new();

    public string ServerLog => Log.ToString();

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
    public NetworkNamespace AddClient(string mac, string? cidr = null) => _network.AddClient(mac, cidr);

    public string TempFile(string name) => _network.TempFile(name);

    public void Dispose()
    {
        try
        {
            StopServer();
        }
        finally
        {
            _network.Dispose();
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
