using Sidus.Wire.Connections;

namespace Sidus.Server.Hosting;

/// <summary>
/// The connection limits of the TCP services ([limits] in sidus.toml): one budget for the whole server, sized by the
/// file-descriptor limit (raised to its hard ceiling first) unless max-connections says otherwise, and a per-address
/// gate each for HTTP and NBD. A connection past a limit is closed as soon as it is accepted, so the descriptors
/// DHCP, TFTP, the store and the inventory need are never taken by clients.
/// </summary>
public sealed class ConnectionLimits
{
    public ConnectionLimits(LimitsSettings settings, ulong descriptors, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggers);
        Descriptors = descriptors;
        Budget = new ConnectionBudget(settings.MaxConnections > 0 ? settings.MaxConnections : ConnectionBudget.FromDescriptorLimit(descriptors));
        var log = loggers.CreateLogger("Sidus.Server.Limits");
        // The boot network's clients are limited per address; the server's own machine (sidus on loopback) is not.
        Http = new ConnectionGate("HTTP", settings.HttpConnectionsPerSource, Budget, log, loopbackUnlimited: true);
        Nbd = new ConnectionGate("NBD", settings.NbdConnectionsPerSource, Budget, log, loopbackUnlimited: true);
        ServerLog.ConnectionLimits(log, Budget.Capacity, descriptors, Http.PerSource, Nbd.PerSource);
    }

    /// <summary>The process's file-descriptor limit the budget was sized by.</summary>
    public ulong Descriptors { get; }

    public ConnectionBudget Budget { get; }

    public ConnectionGate Http { get; }

    public ConnectionGate Nbd { get; }
}
