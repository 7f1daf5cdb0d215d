using System.Net;
using Sidus.Wire.Tftp;

namespace Sidus.Server.Hosting;

/// <summary>What the status endpoint reports about the running services.</summary>
public sealed class ServerState
{
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public IPEndPoint? HttpEndpoint { get; set; }

    public TftpServer? Tftp { get; set; }

    /// <summary>The NBD server, or null when NBD is off.</summary>
    public Sidus.Wire.Nbd.NbdServer? Nbd { get; set; }

    /// <summary>The erofs export cache NBD serves from (null when NBD is off).</summary>
    public ErofsExports? Exports { get; set; }

    /// <summary>One line per further service (DHCP per interface), filled by whoever starts them.</summary>
    public List<Func<string>> Services { get; } = [];

    public IEnumerable<string> Describe() => Services.Select(s => s());

    /// <summary>Where each DHCP server of ours has bound a MAC (filled by whoever starts them); null when it has not.</summary>
    public List<Func<Sidus.Nodes.MacAddress, IPAddress?>> LeaseLookups { get; } = [];

    /// <summary>The address one of our DHCP servers has leased to <paramref name="mac"/>, if any.</summary>
    public IPAddress? LeasedAddress(Sidus.Nodes.MacAddress mac) => LeaseLookups.Select(l => l(mac)).FirstOrDefault(a => a is not null);
}
