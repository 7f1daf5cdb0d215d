using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Inventory;

/// <summary>
/// Stores boot events off the request path: requests queue them, one writer stores them in order. During a mass
/// reboot hundreds of nodes report at once; queueing keeps their requests fast and the database writes serial. The
/// queue is bounded: past it events are dropped (and logged) rather than memory growing without end. The store keeps
/// events of nodes only, at most <see cref="BootEventLimits"/> of them: the writer trims as it stores (at its start,
/// every <see cref="TrimEvery"/> events and every <see cref="TrimInterval"/>), and logs events of machines that are
/// no node at most once every <see cref="NoNodeLogInterval"/>.
/// </summary>
public sealed class BootEventRecorder : BackgroundService
{
    /// <summary>Events waiting to be stored at most; a few per node for a thousand nodes booting together.</summary>
    public const int QueueLength = 8192;

    /// <summary>Events stored between two trims of the whole table.</summary>
    public const int TrimEvery = 1000;

    public static readonly TimeSpan TrimInterval = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan NoNodeLogInterval = TimeSpan.FromSeconds(10);

    private readonly BootEventLimits _limits;
    private int _storedSinceTrim;
    private long _lastTrim = long.MinValue;
    private int _noNodeCount;
    private long _noNodeSince = long.MinValue;

    private readonly InventoryView _view;
    private long? _limitLoggedAt;
    private long _limitRefusals;
    private readonly ILogger<BootEventRecorder> _logger;
    private readonly Channel<Work> _queue = Channel.CreateBounded<Work>(
        new BoundedChannelOptions(QueueLength) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly BootEventFeed? _feed;

    /// <param name="feed">Where each stored event is published for live watchers (the web console); none when null.</param>
    public BootEventRecorder(InventoryView view, ILogger<BootEventRecorder> logger, BootEventLimits? limits = null, BootEventFeed? feed = null)
    {
        _view = view;
        _logger = logger;
        _limits = limits ?? BootEventLimits.Default;
        _feed = feed;
    }

    /// <summary>Queues <paramref name="e"/>; false (and logged) when the queue is full.</summary>
    public bool Record(BootEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var recorded = Enqueue(new EventWork(e), e.Mac, e.Stage.ToText());
        Metrics.ServerMetrics.BootEvent(e.Stage, recorded);
        return recorded;
    }

    /// <summary>Queues a discovered machine to be registered within <paramref name="limits"/> (same writer, same
    /// ordering); one past a limit is not stored, and said so in the log at most once a minute.</summary>
    public bool Discover(MacAddress mac, string? architecture, string? network, string? group, DiscoveryLimits limits) =>
        Enqueue(new DiscoverWork(mac, architecture, network, group, DateTimeOffset.UtcNow, limits), mac, "discovered");

    private bool Enqueue(Work work, MacAddress mac, string what)
    {
        if (_queue.Writer.TryWrite(work))
        {
            return true;
        }

        ServerLog.BootEventDropped(_logger, mac.ToString(), what);
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await TrimAsync(stoppingToken);
            await foreach (var e in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await StoreAsync(e, stoppingToken);
                if (_storedSinceTrim >= TrimEvery || Environment.TickCount64 - _lastTrim >= (long)TrimInterval.TotalMilliseconds)
                {
                    await TrimAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: events still queued are lost, like packets in flight.
        }
    }

    private async Task StoreAsync(Work work, CancellationToken ct)
    {
        try
        {
            switch (work)
            {
                case EventWork w:
                    if (await _view.Store.RecordBootEventAsync(w.Event, _limits, ct))
                    {
                        _storedSinceTrim++;
                        Publish(w.Event);
                    }
                    else
                    {
                        NoteNoNode(w.Mac);
                    }

                    break;
                case DiscoverWork d:
                    var outcome = await _view.Store.RegisterDiscoveredAsync(d.Mac, d.Architecture, d.At, d.Network, d.Group, d.Limits, ct);
                    if (outcome is DiscoveryOutcome.NetworkLimit or DiscoveryOutcome.TotalLimit)
                    {
                        LimitReached(d, outcome);
                    }

                    break;
            }
        }
        catch (Exception ex) when (Hosting.LoopErrors.Survivable(ex, ct))
        {
            ServerLog.BootEventFailed(_logger, work.Mac.ToString(), ex.Message);
        }
    }

    /// <summary>Tells live watchers about a stored event, named by the node that owns its MAC now, text cleaned as stored.</summary>
    private void Publish(BootEvent e)
    {
        if (_feed is not null && _view.Current.FindByMac(e.Mac) is { } node)
        {
            var detail = e.Detail is { Length: > BootStages.MaxDetailLength } d ? d[..BootStages.MaxDetailLength] : e.Detail;
            _feed.Publish(new FedBootEvent(node.Name, e.Mac, e.Stage, e.At, EventText.Clean(detail)));
        }
    }

    /// <summary>Logs a refused registration: the first, then at most one line a minute with the count in between.</summary>
    private void LimitReached(DiscoverWork d, DiscoveryOutcome outcome)
    {
        _limitRefusals++;
        var now = Environment.TickCount64;
        if (_limitLoggedAt is { } last && now - last < 60_000)
        {
            return;
        }

        _limitLoggedAt = now;
        var limit = outcome == DiscoveryOutcome.NetworkLimit
            ? $"{d.Limits.PerNetwork} discovered machines on this network already (sidus.toml [dhcp] max-discovered-per-network)"
            : $"{d.Limits.Total} discovered machines already (sidus.toml [dhcp] max-discovered)";
        ServerLog.DiscoveryLimitReached(_logger, d.Mac.ToString(), d.Network, limit, _limitRefusals - 1);
        _limitRefusals = 0;
    }

    /// <summary>Deletes events beyond the limits; a failure is logged and tried again at the next trim.</summary>
    private async Task TrimAsync(CancellationToken ct)
    {
        _storedSinceTrim = 0;
        _lastTrim = Environment.TickCount64;
        try
        {
            var trimmed = await _view.Store.TrimBootEventsAsync(_limits, DateTimeOffset.UtcNow, ct);
            if (trimmed > 0)
            {
                ServerLog.BootEventsTrimmed(_logger, trimmed, _limits.MaxAge.TotalDays, _limits.Total);
            }
        }
        catch (Exception ex) when (ex is DbException or IOException or InventoryException or TimeoutException)
        {
            ServerLog.BootEventFailed(_logger, "(trim)", ex.Message);
        }
    }

    /// <summary>Counts an event of a machine that is no node; one log line per interval says how many there were.</summary>
    private void NoteNoNode(MacAddress mac)
    {
        _noNodeCount++;
        var now = Environment.TickCount64;
        if (_noNodeSince == long.MinValue || now - _noNodeSince >= (long)NoNodeLogInterval.TotalMilliseconds)
        {
            var seconds = _noNodeSince == long.MinValue ? 0 : (int)Math.Ceiling((now - _noNodeSince) / 1000.0);
            ServerLog.BootEventsOfNoNode(_logger, _noNodeCount, seconds, mac.ToString());
            _noNodeCount = 0;
            _noNodeSince = now;
        }
    }

    private abstract record Work(MacAddress Mac);

    private sealed record EventWork(BootEvent Event) : Work(Event.Mac);

    private sealed record DiscoverWork(MacAddress Mac, string? Architecture, string? Network, string? Group, DateTimeOffset At, DiscoveryLimits Limits) : Work(Mac);
}
