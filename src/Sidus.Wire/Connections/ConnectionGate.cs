using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidus.Wire.Connections;

/// <summary>
/// Admits the connections of one TCP service: at most <see cref="PerSource"/> from one address, and none once the
/// server's <see cref="ConnectionBudget"/> is spent. A refused connection is closed at once by the caller; refusals
/// are logged at most once per <see cref="LogInterval"/> (with how many there were), so a flood cannot fill the log.
/// </summary>
public sealed class ConnectionGate
{
    /// <summary>Time between two log lines about refusals.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly ConnectionBudget _budget;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _bySource = [];
    private readonly bool _loopbackUnlimited;
    private long _lastLog;
    private int _refusedSinceLog;
    private long _refusedTotal;

    /// <param name="service">"HTTP", "NBD": names the service in log lines.</param>
    /// <param name="loopbackUnlimited">
    /// Whether loopback addresses (the server's own machine: the administrator's tools) are exempt from the
    /// per-address limit; they still count in the budget.
    /// </param>
    public ConnectionGate(string service, int perSource, ConnectionBudget budget, ILogger? logger = null, bool loopbackUnlimited = false)
    {
        _loopbackUnlimited = loopbackUnlimited;
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentOutOfRangeException.ThrowIfLessThan(perSource, 1);
        ArgumentNullException.ThrowIfNull(budget);
        Service = service;
        PerSource = perSource;
        _budget = budget;
        _logger = logger ?? NullLogger.Instance;
    }

    public string Service { get; }

    /// <summary>Connections one address may hold at once.</summary>
    public int PerSource { get; }

    public ConnectionBudget Budget => _budget;

    /// <summary>Connections refused since the server started.</summary>
    public long Refused => Interlocked.Read(ref _refusedTotal);

    /// <summary>
    /// A ticket to keep while the connection is open (disposing it gives the place back), or null when the
    /// connection must be closed now.
    /// </summary>
    public ConnectionTicket? TryAdmit(EndPoint? remote)
    {
        var source = remote is IPEndPoint ip ? (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address) : IPAddress.None;
        string? refusal = null;
        lock (_gate)
        {
            var held = _bySource.GetValueOrDefault(source);
            if (held >= PerSource && !(_loopbackUnlimited && IPAddress.IsLoopback(source)))
            {
                refusal = $"{source} already holds {PerSource} connections, the most one address may";
            }
            else if (!_budget.TryTake(firstOfSource: held == 0))
            {
                refusal = held == 0
                    ? $"the server holds {_budget.Capacity} connections, the most its file descriptors allow"
                    : $"the server holds {_budget.Open} connections; the last {_budget.Reserve} of its {_budget.Capacity} are kept for addresses that hold none";
            }
            else
            {
                _bySource[source] = held + 1;
                return new ConnectionTicket(this, source);
            }

            Interlocked.Increment(ref _refusedTotal);
            _refusedSinceLog++;
            var now = Stopwatch.GetTimestamp();
            if (_lastLog != 0 && Stopwatch.GetElapsedTime(_lastLog, now) < LogInterval)
            {
                return null;
            }

            ConnectionLog.Refused(_logger, Service, _refusedSinceLog, remote, refusal);
            _refusedSinceLog = 0;
            _lastLog = now;
            return null;
        }
    }

    /// <summary>Connections one address holds now.</summary>
    public int HeldBy(IPAddress source)
    {
        lock (_gate)
        {
            return _bySource.GetValueOrDefault(source);
        }
    }

    internal void Release(IPAddress source)
    {
        lock (_gate)
        {
            var held = _bySource.GetValueOrDefault(source) - 1;
            if (held <= 0)
            {
                _bySource.Remove(source);
            }
            else
            {
                _bySource[source] = held;
            }
        }

        _budget.Return();
    }
}
