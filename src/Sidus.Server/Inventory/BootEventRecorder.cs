using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Inventory;

/// <summary>
/// Stores boot events off the request path: requests queue them, one writer stores them in order. During a mass
/// reboot hundreds of nodes report at once; queueing keeps their requests fast and the database writes serial. The
/// queue is bounded: past it events are dropped (and logged) rather than memory growing without end.
/// </summary>
public sealed class BootEventRecorder : BackgroundService
{
    /// <summary>Events waiting to be stored at most; a few per node for a thousand nodes booting together.</summary>
    public const int QueueLength = 8192;

    private readonly InventoryView _view;
    private readonly ILogger<BootEventRecorder> _logger;
    private readonly Channel<Work> _queue = Channel.CreateBounded<Work>(
        new BoundedChannelOptions(QueueLength) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public BootEventRecorder(InventoryView view, ILogger<BootEventRecorder> logger)
    {
        _view = view;
        _logger = logger;
    }

    /// <summary>Queues <paramref name="e"/>; false (and logged) when the queue is full.</summary>
    public bool Record(BootEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Enqueue(new EventWork(e), e.Mac, e.Stage.ToText());
    }

    /// <summary>Queues a discovered machine to be registered (same writer, same ordering).</summary>
    public bool Discover(MacAddress mac, string? architecture, string? network, string? group) =>
        Enqueue(new DiscoverWork(mac, architecture, network, group, DateTimeOffset.UtcNow), mac, "discovered");

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
            await foreach (var e in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await StoreAsync(e, stoppingToken);
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
                    await _view.Store.RecordBootEventAsync(w.Event, ct);
                    break;
                case DiscoverWork d:
                    await _view.Store.RegisterDiscoveredAsync(d.Mac, d.Architecture, d.At, d.Network, d.Group, ct);
                    break;
            }
        }
        catch (Exception ex) when (Hosting.LoopErrors.Survivable(ex, ct))
        {
            ServerLog.BootEventFailed(_logger, work.Mac.ToString(), ex.Message);
        }
    }

    private abstract record Work(MacAddress Mac);

    private sealed record EventWork(BootEvent Event) : Work(Event.Mac);

    private sealed record DiscoverWork(MacAddress Mac, string? Architecture, string? Network, string? Group, DateTimeOffset At) : Work(Mac);
}
