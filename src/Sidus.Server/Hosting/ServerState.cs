using Sidus.Server.Dhcp;

namespace Sidus.Server.Hosting;

/// <summary>What the status endpoint and the access checks read about the running server: its listeners, as built.</summary>
public sealed class ServerState(IEnumerable<IBootListener> listeners)
{
    private readonly IReadOnlyList<IBootListener> _listeners = [.. listeners];

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Where HTTP listens, once it does (the real port when the options asked for port 0).</summary>
    public IPEndPoint? HttpEndpoint { get; internal set; }

    /// <summary>TFTP, or null when it is off.</summary>
    public TftpListener? Tftp => _listeners.OfType<TftpListener>().FirstOrDefault();

    /// <summary>NBD, or null when it is off.</summary>
    public NbdListener? Nbd => _listeners.OfType<NbdListener>().FirstOrDefault();

    /// <summary>One line per DHCP server (one per interface).</summary>
    public IEnumerable<string> Describe() => _listeners.OfType<DhcpListener>().Select(d => d.Describe());

    /// <summary>The counters of each DHCP server (one per interface), for /metrics.</summary>
    public IEnumerable<Sidus.Wire.Dhcp.DhcpServerStatistics> DhcpStatistics() => _listeners.OfType<DhcpListener>().Select(d => d.Statistics);

    /// <summary>The address one of our DHCP servers has leased to <paramref name="mac"/>, if any.</summary>
    public IPAddress? LeasedAddress(MacAddress mac) =>
        _listeners.OfType<DhcpListener>().Select(d => d.LeasedAddress(mac)).FirstOrDefault(a => a is not null);
}
