namespace Sidus.Server.Hosting;

/// <summary>
/// One of the boot network's listeners that <c>sidus serve</c> hosts next to HTTP (TFTP, NBD, DHCP per interface,
/// IPv6 router answers). Every one is hosted the same way (<see cref="ListenerHost"/>): bound when the server starts,
/// so a port in use or a missing permission stops the start with advice, then run until the server stops.
/// </summary>
public interface IBootListener : IAsyncDisposable
{
    /// <summary>What it is, for logs and status ("TFTP", "DHCP on eth1").</summary>
    string Name { get; }

    /// <summary>
    /// False for a listener the server can do without (it only speeds boots up): a failure to bind or to run is
    /// logged and the server goes on. True: such a failure stops the server.
    /// </summary>
    bool Essential { get; }

    /// <summary>Binds its sockets; a problem is a <see cref="Configuration.ServeConfigException"/> saying what to do.</summary>
    void Bind();

    /// <summary>Serves until <paramref name="stopping"/> fires.</summary>
    Task RunAsync(CancellationToken stopping);

    /// <summary>One line for the status API: where it listens and what it has done.</summary>
    string Describe();
}
