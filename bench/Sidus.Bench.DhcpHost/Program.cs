using Microsoft.Extensions.Logging;
using Sidus.Wire.Dhcp;

// Hosts Sidus's DHCP server alone, for benchmarks and manual checks (the real host is `sidus serve`).
// Usage: Sidus.Bench.DhcpHost --interface IF --address IP [--prefix 24] [--pool A-B]... [--relay-subnet NET/PREFIX=A-B]...
//        [--mode full|proxy] [--lease-file PATH] [--lease-seconds N] [--router IP] [--dns IP] [--log-level Information]
var arguments = args;
string? Value(string name) => Array.IndexOf(arguments, name) is var i and >= 0 && i + 1 < arguments.Length ? arguments[i + 1] : null;
IEnumerable<string> Values(string name)
{
    for (var i = 0; i + 1 < arguments.Length; i++)
    {
        if (arguments[i] == name)
            yield return arguments[i + 1];
    }
}

if (Value("--address") is not { } address)
{
    Console.Error.WriteLine("usage: Sidus.Bench.DhcpHost --interface IF --address IP [--prefix 24] [--pool A-B]... "
        + "[--relay-subnet NET/PREFIX=A-B]... [--mode full|proxy] [--lease-file PATH] [--lease-seconds N] [--router IP] [--dns IP] [--log-level LEVEL]");
    return 2;
}
var prefix = int.Parse(Value("--prefix") ?? "24", System.Globalization.CultureInfo.InvariantCulture);
var relaySubnets = Values("--relay-subnet").Select(text =>
{
    var (net, pools) = (text[..text.IndexOf('=', StringComparison.Ordinal)], text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    var slash = net.IndexOf('/', StringComparison.Ordinal);
    return new DhcpSubnet(Ip4.Parse(net[..slash]), Ip4.MaskFromPrefix(int.Parse(net[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture)),
        pools.Split(',').Select(DhcpPool.Parse).ToList());
}).ToList();
var options = new DhcpServerOptions
{
    InterfaceName = Value("--interface"),
    ServerAddress = Ip4.Parse(address),
    SubnetMask = Ip4.MaskFromPrefix(prefix),
    Mode = Value("--mode") == "proxy" ? DhcpMode.Proxy : DhcpMode.Full,
    Pools = Values("--pool").Select(DhcpPool.Parse).ToList(),
    RelaySubnets = relaySubnets,
    LeaseFile = Value("--lease-file"),
    LeaseTime = TimeSpan.FromSeconds(int.Parse(Value("--lease-seconds") ?? "3600", System.Globalization.CultureInfo.InvariantCulture)),
    Router = Value("--router") is { } router ? Ip4.Parse(router) : null,
    DnsServers = Values("--dns").Select(Ip4.Parse).ToList(),
};
var level = Enum.Parse<LogLevel>(Value("--log-level") ?? "Information");
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(level));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
using var server = new DhcpServer(options, new NoNodes(), loggerFactory.CreateLogger("Sidus.Dhcp"));
server.Bind();
Console.WriteLine("ready");
await server.RunAsync(stop.Token);
var s = server.Statistics;
Console.WriteLine($"received {s.Received} malformed {s.Malformed} ignored {s.Ignored} replies {s.Replies} commits {s.Commits}");
return 0;

/// <summary>No inventory: every machine is unknown and answered with defaults; nothing is recorded (a load test
/// creates a million of them).</summary>
internal sealed class NoNodes : IDhcpNodeSource
{
    public DhcpNodeAnswer? Find(DhcpClientInfo client) => null;

    public string? ReservedFor(Ip4 address) => null;
}
