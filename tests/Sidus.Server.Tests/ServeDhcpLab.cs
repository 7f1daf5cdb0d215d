using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>Tests that run `sidus serve` with DHCP and real clients in namespaces share one collection, run one at
/// a time (two cores, timing-sensitive clients).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServeDhcpCollection
{
    public const string Name = "sidus serve DHCP in namespaces";
}

/// <summary>
/// The real `sidus serve` (the CLI as an administrator runs it) in a private network: <see cref="DhcpTestNetwork"/>
/// with bridge br0 at 10.78.0.1/24 in the server's namespace, each DHCP client in a namespace of its own. The home
/// and every namespace go with Dispose.
/// </summary>
internal sealed class ServeDhcpLab : IDhcpClientLab, IDisposable
{
    public const string Bridge = "br0";
    public const string ServerAddress = "10.78.0.1";
    public const string Pool = "10.78.0.100-10.78.0.150";

    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private readonly DhcpTestNetwork _network = new(Bridge, ServerAddress + "/24");

    public ServeDhcpLab() => Directory.CreateDirectory(Home);

    public string Home => _network.TempFile("home");

    public NetworkNamespace ServerNs => _network.ServerNs;

    /// <summary>The first `sidus serve` started, once it listens.</summary>
    public BackgroundProcess? Serve { get; private set; }

    public string ServerLog => Serve?.Output ?? "(sidus serve not started)";

    public string TempFile(string name) => _network.TempFile(name);

    public NetworkNamespace AddClient(string mac) => _network.AddClient(mac);

    /// <summary>A client with a fixed address (CIDR) on the bridge, as a machine configured by hand.</summary>
    public NetworkNamespace AddClient(string mac, string cidr) => _network.AddClient(mac, cidr);

    public static bool InPool(string address)
    {
        var last = int.Parse(address.Split('.')[^1], System.Globalization.CultureInfo.InvariantCulture);
        return address.StartsWith("10.78.0.", StringComparison.Ordinal) && last is >= 100 and <= 150;
    }

    /// <summary>Runs the sidus CLI on this lab's home (outside the namespaces: the inventory is a file).</summary>
    public async Task<Tools.Result> SidusAsync(params string[] args)
    {
        var result = await Tools.SidusAsync(Home, args);
        Assert.True(result.ExitCode == 0, $"sidus {string.Join(' ', args)} failed ({result.ExitCode}): {result.Err}");
        return result;
    }

    /// <summary>Starts `sidus serve --interface br0 --dhcp full --pool ...` (plus <paramref name="extra"/>) inside the
    /// server namespace, without TFTP and NBD unless asked, and waits until it listens.</summary>
    public async Task<BackgroundProcess> StartServeAsync(params string[] extra)
    {
        var serve = StartServe(extra.Length == 0 ? ["--no-tftp", "--no-nbd"] : extra);
        Assert.True(await serve.WaitForOutputAsync("HTTP listening on", StartLimit), "sidus serve did not start:\n" + serve.Output);
        Serve ??= serve;
        return serve;
    }

    /// <summary>Starts `sidus serve` on br0 in full mode with <paramref name="extra"/> options, without waiting.</summary>
    public BackgroundProcess StartServe(IEnumerable<string> extra) => StartServe(["--dhcp", "full", "--pool", Pool], extra);

    /// <summary>Starts `sidus serve` on br0 in proxy mode (no TFTP, no NBD, HTTP on <paramref name="httpPort"/>),
    /// without waiting.</summary>
    public BackgroundProcess StartProxy(int httpPort) =>
        StartServe(["--dhcp", "proxy"], ["--no-tftp", "--no-nbd", "--http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    private BackgroundProcess StartServe(IEnumerable<string> dhcp, IEnumerable<string> extra)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sidus.dll");
        return ServerNs.Start("dotnet", [dll, "--home", Home, "serve", "--interface", Bridge, .. dhcp, .. extra]);
    }

    /// <summary>A GET from inside a client's namespace (the server answers only there), from the address the client
    /// leased (its DHCP client only printed it: the test configures it, as the machine would).</summary>
    public static string Curl(NetworkNamespace client, string leased, string path)
    {
        client.Ip("addr", "replace", leased + "/24", "dev", DhcpClients.Interface);
        var result = client.Run(Tool.Require("curl", "curl"), ["-sS", "--max-time", "20", $"http://{ServerAddress}{path}"], TimeSpan.FromSeconds(30));
        Assert.True(result.Succeeded, $"curl {path} failed: {result}");
        return result.StandardOutput;
    }

    public void Dispose() => _network.Dispose();
}
