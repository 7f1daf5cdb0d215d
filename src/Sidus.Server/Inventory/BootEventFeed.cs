using System.Threading.Channels;

namespace Sidus.Server.Inventory;

/// <summary>One boot event as stored, for whoever watches boots live: the node it belongs to and the cleaned text.</summary>
public sealed record FedBootEvent(string Node, MacAddress Mac, BootStage Stage, DateTimeOffset At, string? Detail);

/// <summary>
/// An in-process broadcast of stored boot events (the web console's live view listens). Each watcher has a small
/// queue of its own: a watcher that reads too slowly loses its oldest events, never slows the recorder, and never
/// holds memory beyond <see cref="QueueLength"/> events. At most <see cref="MaxWatchers"/> watch at once.
/// </summary>
public sealed class BootEventFeed
{
    /// <summary>Events waiting for one watcher at most.</summary>
    public const int QueueLength = 256;

    /// <summary>Watchers at once at most (browser tabs of admins).</summary>
    public const int MaxWatchers = 64;

    private readonly Lock _gate = new();
    private readonly List<Channel<FedBootEvent>> _watchers = [];

    public int Watchers
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>Hands <paramref name="e"/> to every watcher, at once and without waiting.</summary>
    public void Publish(FedBootEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Writer.TryWrite(e);
            }
        }
    }

    /// <summary>A new watcher, or null when <see cref="MaxWatchers"/> already watch; dispose it to stop watching.</summary>
    public Watcher? Watch()
    {
        var channel = Channel.CreateBounded<FedBootEvent>(
            new BoundedChannelOptions(QueueLength) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            if (_watchers.Count >= MaxWatchers)
            {
                return null;
            }

            _watchers.Add(channel);
        }

        return new Watcher(this, channel);
    }

    private void Stop(Channel<FedBootEvent> channel)
    {
        lock (_gate)
        {
            _watchers.Remove(channel);
        }

        channel.Writer.TryComplete();
    }

    /// <summary>One watcher's events, in the order they were stored.</summary>
    public sealed class Watcher : IDisposable
    {
        private readonly BootEventFeed _feed;
        private readonly Channel<FedBootEvent> _channel;

        internal Watcher(BootEventFeed feed, Channel<FedBootEvent> channel)
        {
            _feed = feed;
            _channel = channel;
        }

        public ChannelReader<FedBootEvent> Events => _channel.Reader;

        public void Dispose() => _feed.Stop(_channel);
    }
}
