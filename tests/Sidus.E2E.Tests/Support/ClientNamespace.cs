namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A namespace for a test's client machine on a bridge of another namespace: one veth, its end here named
/// <see cref="Interface"/> (with <see cref="Mac"/>, no address: the client gets one, e.g. by DHCP), its other end a
/// port of the bridge. Removed on dispose, with the veth pair.
/// </summary>
internal sealed class ClientNamespace : IDisposable
{
    public const string Interface = "client0";
    private readonly string _ip = Tool.Require("ip", "iproute2");

    public ClientNamespace(NetworkNamespace host, string bridge)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        Name = "sidus-e2e-client-" + suffix;
        Mac = DirectBootVm.RandomMac();
        Tool.Run(_ip, "netns", "add", Name);
        try
        {
            Tool.Run(_ip, "-n", Name, "link", "set", "lo", "up");
            var port = "cveth" + suffix;
            host.Exec(_ip, "link", "add", port, "type", "veth", "peer", "name", Interface, "address", Mac, "netns", Name);
            host.Exec(_ip, "link", "set", port, "master", bridge);
            host.Exec(_ip, "link", "set", port, "up");
            Tool.Run(_ip, "-n", Name, "link", "set", Interface, "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }
    public string Mac { get; }

    /// <summary>Runs a command inside; returns its exit code and output (stdout, then stderr).</summary>
    public (int Code, string Output) Run(TimeSpan limit, params string[] command) => Tool.TryRun(limit, _ip, ["netns", "exec", Name, .. command]);

    public void Dispose()
    {
        // The veth pair goes with the namespace; nothing the tests run here outlives its Run.
        Tool.TryRun(TimeSpan.FromSeconds(30), _ip, "netns", "delete", Name);
    }
}
