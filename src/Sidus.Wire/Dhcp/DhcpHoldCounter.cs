namespace Sidus.Wire.Dhcp;

/// <summary>Counts addresses of one kind per pool (held by machines that are no node; quarantined after a DECLINE),
/// each until its own expiry, without scanning the lease table: expiries wait in a heap and are swept when a count is
/// asked for. Renewing an address pushes a second expiry; the stale one is recognised by its time and skipped.
/// Not thread-safe: the lease table's caller serialises.</summary>
internal sealed class DhcpHoldCounter
{
    private readonly Dictionary<Ip4, (DhcpPool Pool, DateTimeOffset Until)> _entries = [];
    private readonly Dictionary<DhcpPool, int> _perPool = [];
    private readonly PriorityQueue<Ip4, DateTimeOffset> _expiries = new();

    /// <summary>Counts <paramref name="address"/> in <paramref name="pool"/> until <paramref name="until"/>.</summary>
    public void Set(Ip4 address, DhcpPool pool, DateTimeOffset until)
    {
        if (_entries.TryGetValue(address, out var entry) && entry.Pool != pool)
            Remove(address);
        if (!_entries.ContainsKey(address))
            _perPool[pool] = _perPool.GetValueOrDefault(pool) + 1;
        _entries[address] = (pool, until);
        _expiries.Enqueue(address, until);
    }

    public void Remove(Ip4 address)
    {
        if (_entries.Remove(address, out var entry))
            _perPool[entry.Pool]--;
    }

    public void Clear()
    {
        _entries.Clear();
        _perPool.Clear();
        _expiries.Clear();
    }

    /// <summary>Addresses counted in <paramref name="pool"/> at <paramref name="now"/>.</summary>
    public int Count(DhcpPool pool, DateTimeOffset now)
    {
        Sweep(now);
        return _perPool.GetValueOrDefault(pool);
    }

    /// <summary>Addresses counted in the pools of <paramref name="subnet"/> at <paramref name="now"/>.</summary>
    public int Count(DhcpSubnet subnet, DateTimeOffset now)
    {
        Sweep(now);
        var total = 0;
        foreach (var pool in subnet.Pools)
            total += _perPool.GetValueOrDefault(pool);
        return total;
    }

    private void Sweep(DateTimeOffset now)
    {
        while (_expiries.TryPeek(out var address, out var until) && until <= now)
        {
            _expiries.Dequeue();
            if (_entries.TryGetValue(address, out var entry) && entry.Until <= now)
                Remove(address);
        }
    }
}
