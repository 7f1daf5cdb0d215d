namespace Sidus.Wire.Dhcp;

/// <summary>
/// Bounds how many lines of one kind reach the Information level: at most <see cref="Lines"/> per
/// <see cref="Window"/>. A network Sidus owns has laptops, switches and BMCs that renew every few minutes, and a load
/// test sends thousands of clients a second; a line for each at Information would fill the journal and make writing
/// the log the server's bottleneck. Lines past the budget go to Debug and are counted, and the next Information line
/// is preceded by that count. Not thread-safe: the DHCP responder runs under its server's lock.
/// </summary>
internal sealed class LogBudget(int lines, TimeSpan window, TimeProvider time)
{
    private readonly long _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
    private long _windowEnds = long.MinValue;
    private int _left;
    private long _heldBack;

    public int Lines => lines;

    public TimeSpan Window => window;

    /// <summary>True when the next line may go out at Information; <paramref name="heldBack"/> is then the number
    /// of lines sent to Debug since the last one that did (say so first).</summary>
    public bool Take(out long heldBack)
    {
        var now = time.GetTimestamp();
        if (now >= _windowEnds)
        {
            _windowEnds = now + _windowTicks;
            _left = lines;
        }

        if (_left > 0)
        {
            _left--;
            heldBack = _heldBack;
            _heldBack = 0;
            return true;
        }

        _heldBack++;
        heldBack = 0;
        return false;
    }
}
