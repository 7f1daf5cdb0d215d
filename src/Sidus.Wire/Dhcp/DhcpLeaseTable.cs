namespace Sidus.Wire.Dhcp;

/// <summary>Who holds which address. Guarantees one address never belongs to two clients at once, and one client
/// holds at most one address. Changes to bound, released and declined leases go to the journal when one is given.
/// Not thread-safe: the server drives it from its single receive loop.</summary>
public sealed class DhcpLeaseTable
{
    private readonly Dictionary<Ip4, DhcpLease> _byAddress = [];
    private readonly Dictionary<string, DhcpLease> _byMac = new(StringComparer.Ordinal);
    private readonly Dictionary<DhcpPool, uint> _cursors = [];
    private readonly TimeProvider _time;
    private readonly DhcpLeaseJournal? _journal;

    public DhcpLeaseTable(TimeProvider time, DhcpLeaseJournal? journal = null)
    {
        _time = time;
        _journal = journal;
    }

    /// <summary>How long an OFFER keeps an address for its client.</summary>
    public TimeSpan OfferHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a declined address stays out of use.</summary>
    public TimeSpan DeclineQuarantine { get; init; } = TimeSpan.FromMinutes(10);

    public int Count => _byAddress.Count;

    public IEnumerable<DhcpLease> Leases => _byAddress.Values;

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Restores the table from a journal file; returns the number of damaged lines skipped.</summary>
    public int Load(string journalPath) => DhcpLeaseJournal.Load(journalPath, Restore);

    public DhcpLease? FindByMac(string mac) => _byMac.GetValueOrDefault(mac);

    public DhcpLease? FindByAddress(Ip4 address) => _byAddress.GetValueOrDefault(address);

    /// <summary>True when <paramref name="address"/> may be given to <paramref name="mac"/> now.</summary>
    public bool IsAvailableTo(Ip4 address, string mac) =>
        !_byAddress.TryGetValue(address, out var lease) || lease.Mac == mac && lease.State != DhcpLeaseState.Declined
        || !lease.HoldsAddress(Now);

    /// <summary>Picks the address to offer: the client's fixed address, its current lease, the address it asks for,
    /// else a free pool address; and holds it for <see cref="OfferHold"/>. Null when nothing is free.</summary>
    public DhcpLease? Offer(string mac, DhcpSubnet subnet, Ip4? fixedAddress, Ip4? requested, Func<Ip4, bool> reservedForOther)
    {
        Ip4? chosen = null;
        if (fixedAddress is { } fixedIp)
        {
            if (!IsAvailableTo(fixedIp, mac))
                return null;
            chosen = fixedIp;
        }
        else if (_byMac.TryGetValue(mac, out var current) && subnet.InPool(current.Address) && !reservedForOther(current.Address))
        {
            chosen = current.Address;
        }
        else if (requested is { } wanted && subnet.InPool(wanted) && IsAvailableTo(wanted, mac) && !reservedForOther(wanted))
        {
            chosen = wanted;
        }
        else
        {
            chosen = FindFree(mac, subnet, reservedForOther);
        }
        if (chosen is not { } address)
            return null;
        var existing = _byMac.GetValueOrDefault(mac);
        var expires = Now + OfferHold;
        if (existing is not null && existing.Address == address && existing.State == DhcpLeaseState.Bound && existing.Expires > expires)
            return existing;
        return Put(new DhcpLease(address, mac, DhcpLeaseState.Offered, expires, existing?.HostName), journal: false);
    }

    /// <summary>Binds <paramref name="address"/> to <paramref name="mac"/> for <paramref name="leaseTime"/>; null when
    /// the address belongs to someone else. The record is journaled; call <see cref="Commit"/> before the ACK.</summary>
    public DhcpLease? Bind(string mac, Ip4 address, TimeSpan leaseTime, string? hostName)
    {
        if (!IsAvailableTo(address, mac))
            return null;
        return Put(new DhcpLease(address, mac, DhcpLeaseState.Bound, Now + leaseTime, hostName), journal: true);
    }

    /// <summary>Ends the client's lease on <paramref name="address"/> (RELEASE). False when it held none there.</summary>
    public bool Release(string mac, Ip4 address)
    {
        if (!_byAddress.TryGetValue(address, out var lease) || lease.Mac != mac || lease.State == DhcpLeaseState.Declined)
            return false;
        Put(lease with { State = DhcpLeaseState.Released, Expires = Now }, journal: lease.State == DhcpLeaseState.Bound);
        return true;
    }

    /// <summary>Quarantines <paramref name="address"/> after the client found it in use (DECLINE).</summary>
    public bool Decline(string mac, Ip4 address)
    {
        if (!_byAddress.TryGetValue(address, out var lease) || lease.Mac != mac)
            return false;
        _byMac.Remove(mac);
        Put(new DhcpLease(address, string.Empty, DhcpLeaseState.Declined, Now + DeclineQuarantine), journal: true);
        return true;
    }

    /// <summary>Makes journaled changes durable (one fsync for the batch) and compacts the journal when due.
    /// Returns true when something was written.</summary>
    public bool Commit()
    {
        if (_journal is null || !_journal.Commit())
            return false;
        if (_journal.NeedsCompaction(_byAddress.Count))
            _journal.Compact(LiveLeases());
        return true;
    }

    /// <summary>Group commit, step one (under the caller's lock): takes the journal records appended so far, or
    /// compacts the journal in place when it has grown well past the live leases (rare; then nothing is left to write).</summary>
    public JournalBatch TakeJournalBatch()
    {
        if (_journal is null)
            return default;
        if (_journal.NeedsCompaction(_byAddress.Count))
        {
            _journal.TakeBatch();
            _journal.Compact(LiveLeases());
            return default;
        }
        return _journal.TakeBatch();
    }

    /// <summary>Group commit, step two (outside the lock): writes and fsyncs what step one took.</summary>
    public bool WriteJournalBatch(JournalBatch batch) => _journal is not null && _journal.WriteBatch(batch);

    /// <summary>Forgets leases that ended; released and expired records are kept (for sticky addresses) until the
    /// pool needs them.</summary>
    public int RemoveExpiredDeclines()
    {
        var now = Now;
        var ended = _byAddress.Values.Where(l => l.State == DhcpLeaseState.Declined && l.Expires <= now).Select(l => l.Address).ToList();
        foreach (var address in ended)
            _byAddress.Remove(address);
        return ended.Count;
    }

    private IEnumerable<DhcpLease> LiveLeases()
    {
        var now = Now;
        return _byAddress.Values.Where(l => l.State != DhcpLeaseState.Offered && (l.State == DhcpLeaseState.Bound || l.Expires > now
            || l.State == DhcpLeaseState.Released)).ToList();
    }

    private Ip4? FindFree(string mac, DhcpSubnet subnet, Func<Ip4, bool> reservedForOther)
    {
        // First pass: addresses never used (cheap, keeps released addresses for their old owners as long as possible);
        // second pass: any address whose holder's claim has ended.
        foreach (var pool in subnet.Pools)
        {
            if (ScanPool(pool, mac, reservedForOther, neverUsedOnly: true) is { } fresh)
                return fresh;
        }
        foreach (var pool in subnet.Pools)
        {
            if (ScanPool(pool, mac, reservedForOther, neverUsedOnly: false) is { } reused)
                return reused;
        }
        return null;
    }

    private Ip4? ScanPool(DhcpPool pool, string mac, Func<Ip4, bool> reservedForOther, bool neverUsedOnly)
    {
        var size = (uint)pool.Count;
        var cursor = _cursors.GetValueOrDefault(pool);
        for (uint i = 0; i < size; i++)
        {
            var offset = (cursor + i) % size;
            var address = new Ip4(pool.First.Value + offset);
            var used = _byAddress.ContainsKey(address);
            if (neverUsedOnly ? used : !IsAvailableTo(address, mac))
                continue;
            if (reservedForOther(address))
                continue;
            _cursors[pool] = (offset + 1) % size;
            return address;
        }
        return null;
    }

    private DhcpLease Put(DhcpLease lease, bool journal)
    {
        if (_byAddress.TryGetValue(lease.Address, out var previous) && previous.Mac.Length > 0 && previous.Mac != lease.Mac
            && _byMac.TryGetValue(previous.Mac, out var theirs) && theirs.Address == lease.Address)
            _byMac.Remove(previous.Mac);
        if (lease.Mac.Length > 0)
        {
            if (_byMac.TryGetValue(lease.Mac, out var mine) && mine.Address != lease.Address
                && _byAddress.TryGetValue(mine.Address, out var old) && old.Mac == lease.Mac)
            {
                // The client moves to another address: its old one is given up now, so it is never held twice.
                var freed = old with { State = DhcpLeaseState.Released, Expires = Now };
                _byAddress[old.Address] = freed;
                if (old.State == DhcpLeaseState.Bound)
                    _journal?.Append(freed);
            }
            _byMac[lease.Mac] = lease;
        }
        _byAddress[lease.Address] = lease;
        if (journal)
            _journal?.Append(lease);
        return lease;
    }

    private void Restore(DhcpLease lease)
    {
        if (_byAddress.TryGetValue(lease.Address, out var previous) && previous.Mac.Length > 0
            && _byMac.TryGetValue(previous.Mac, out var theirs) && theirs.Address == lease.Address)
            _byMac.Remove(previous.Mac);
        if (lease.Mac.Length > 0)
        {
            if (_byMac.TryGetValue(lease.Mac, out var mine) && mine.Address != lease.Address)
                _byAddress.Remove(mine.Address);
            _byMac[lease.Mac] = lease;
        }
        _byAddress[lease.Address] = lease;
    }
}
