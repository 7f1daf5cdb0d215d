using System.Diagnostics;

namespace Sidus.Wire.Connections;

/// <summary>
/// How an accept loop rides out a lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS): it waits, longer each
/// time up to <see cref="MaxDelay"/>, and tries again, where a tight retry would spin and an exception would end the
/// service. The stall is logged when it begins and then at most once per <see cref="ConnectionGate.LogInterval"/>.
/// </summary>
public sealed class AcceptBackoff(string service, ILogger logger)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);

    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    private TimeSpan _delay = TimeSpan.Zero;
    private long _lastLog;

    /// <summary>Whether an accept error is a momentary lack of resources or a client gone early, to wait out.</summary>
    public static bool IsTransient(SocketException e) => e.SocketErrorCode is SocketError.TooManyOpenSockets
        or SocketError.NoBufferSpaceAvailable or SocketError.ConnectionAborted or SocketError.ConnectionReset;

    /// <summary>Records a failed accept; returns how long to wait before the next.</summary>
    public TimeSpan Failed(SocketException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        _delay = _delay == TimeSpan.Zero ? FirstDelay : TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, MaxDelay.Ticks));
        var now = Stopwatch.GetTimestamp();
        if (_lastLog == 0 || Stopwatch.GetElapsedTime(_lastLog, now) >= ConnectionGate.LogInterval)
        {
            ConnectionLog.AcceptStalled(logger, service, e.Message, (int)_delay.TotalMilliseconds);
            _lastLog = now;
        }

        return _delay;
    }

    /// <summary>An accept worked: the next failure starts a new stall.</summary>
    public void Succeeded() => _delay = TimeSpan.Zero;
}
