namespace Sidus.Wire.Connections;

/// <summary>
/// The TCP connections the whole server may hold at once, shared by every TCP service (HTTP, NBD): each connection
/// costs a file descriptor, and a server out of descriptors can no longer answer DHCP, open a TFTP transfer, read
/// its store or its inventory. Sized below the descriptor limit (<see cref="FromDescriptorLimit"/>), so new
/// connections are refused before the last descriptors go.
/// </summary>
public sealed class ConnectionBudget
{
    /// <summary>Descriptors kept for everything but TCP connections when the limit allows it: DHCP and TFTP sockets
    /// (a TFTP transfer holds a socket and a file), the store's files, the inventory, logs.</summary>
    public const int MinimumHeadroom = 1280;

    /// <summary>Connections allowed when the descriptor limit would allow more: enough for thousands of booting
    /// nodes (each holds one or two), few enough that idle connections cannot take the server's memory.</summary>
    public const int DefaultMaximum = 16_384;

    /// <summary>Most places kept for addresses that hold no connection yet (see <see cref="Reserve"/>).</summary>
    public const int MaxReserve = 512;

    private int _open;

    public ConnectionBudget(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Reserve = Math.Min(MaxReserve, capacity / 4);
    }

    /// <summary>Connections allowed at once.</summary>
    public int Capacity { get; }

    /// <summary>
    /// The last places, given only to an address that holds no connection yet: clients from many addresses can fill
    /// the rest, but a machine that comes to boot still gets in (an attacker's addresses each take one place here at
    /// most, and a boot network has few enough addresses).
    /// </summary>
    public int Reserve { get; }

    /// <summary>Connections held now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>
    /// The budget a descriptor limit allows: the limit less a headroom (a quarter of it, at least
    /// <see cref="MinimumHeadroom"/>), never more than <paramref name="maximum"/>; with a limit too small for the
    /// headroom, half of it.
    /// </summary>
    public static int FromDescriptorLimit(ulong descriptors, int maximum = DefaultMaximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, 1);
        var limit = (long)Math.Min(descriptors, int.MaxValue);
        var headroom = Math.Max(MinimumHeadroom, limit / 4);
        var capacity = limit > 2 * headroom ? limit - headroom : limit / 2;
        return (int)Math.Clamp(capacity, 1, maximum);
    }

    /// <param name="firstOfSource">Whether the connection's address holds none yet (it may use the reserve).</param>
    internal bool TryTake(bool firstOfSource)
    {
        var limit = firstOfSource ? Capacity : Capacity - Reserve;
        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open >= limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                return true;
            }
        }
    }

    internal void Return() => Interlocked.Decrement(ref _open);
}
