namespace Sidus.Testing;

/// <summary>A private network for DHCP tests: the server's namespace with a bridge at a given address, and one
/// namespace per client joined to the bridge by a veth whose client end (<see cref="DhcpClients.Interface"/>) has a
/// chosen MAC. Dispose removes every namespace (and so every interface) and the work directory.</summary>
public sealed class DhcpTestNetwork : IDisposable
{
    private readonly List<NetworkNamespace> _clients = [];
    private int _ports;

    /// <param name="bridge">The bridge's name in the server namespace.</param>
    /// <param name="serverCidr">The server's address on it, like 10.77.0.1/24.</param>
    public DhcpTestNetwork(string bridge, string serverCidr)
    {
        Bridge = bridge;
        Directory = System.IO.Directory.CreateTempSubdirectory("sidus-dhcp-lab-").FullName;
        ServerNs = NetworkNamespace.Create("sdhcp");
        try
        {
            ServerNs.AddBridge(bridge, serverCidr);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Bridge { get; }

    public NetworkNamespace ServerNs { get; }

    /// <summary>A work directory for lease files, scripts and logs, removed with the network.</summary>
    public string Directory { get; }

    public string TempFile(string name) => Path.Combine(Directory, name);

    /// <summary>A new client namespace whose interface has <paramref name="mac"/> (and <paramref name="cidr"/>,
    /// when given), joined to the bridge.</summary>
    public NetworkNamespace AddClient(string mac, string? cidr = null)
    {
        var ns = NetworkNamespace.Create("sdcli");
        _clients.Add(ns);
        var port = $"p{_ports++}-{ns.Name[^4..]}";
        ServerNs.ConnectVeth(port, null, ns, DhcpClients.Interface, cidr, localBridge: Bridge, peerMac: mac);
        return ns;
    }

    public void Dispose()
    {
        try
        {
            foreach (var client in _clients)
                client.Dispose();
            ServerNs?.Dispose();
        }
        finally
        {
            if (System.IO.Directory.Exists(Directory))
                System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
