namespace Sidus.Wire.Dhcp;

/// <summary>Who holds which address. Guarantees one address never belongs to two clients at once, and one client
/// has one current lease. Changes to bound, released and declined leases go to the journal when one is given.
/// Guards the pool against its own clients: a released address, and a bound one its client moved away from, stays
/// its client's until that lease would have ended; a DECLINE counts only from the address's holder, right after the
/// ACK (<see cref="DeclineWindow"/>), and quarantines at most
/// <see cref="DeclinesPerClient"/> addresses per client and <see cref="DeclineSharePercent"/> of a pool; machines
/// that are no node may hold only what the nodes leave (<see cref="HasRoomForUnknown"/>).
/// Not thread-safe: the server drives it from its single receive loop.</summary>
public sealed class DhcpLeaseTable
{
    private readonly Dictionary<Ip4, DhcpLease> _byAddress = [];
    private readonly Dictionary<string, DhcpLease> _byMac = new(StringComparer.Ordinal);
    private readonly Dictionary<DhcpPool, uint> _cursors = [];
    private readonly TimeProvider _time;
    private readonly DhcpLeaseJournal? _journal;
    private readonly List<DhcpPool> _pools = [];
    private readonly HashSet<DhcpSubnet> _subnets = new(ReferenceEqualityComparer.Instance);
    private readonly DhcpHoldCounter _unknownHeld = new();
    private readonly DhcpHoldCounter _quarantined = new();
    private readonly Dictionary<string, List<Ip4>> _declinedBy = new(StringComparer.Ordinal);

    public DhcpLeaseTable(TimeProvider time, DhcpLeaseJournal? journal = null)
    {
        _time = time;
        _journal = journal;
    }

    /// <summary>How long an OFFER keeps an address for its client.</summary>
    public TimeSpan OfferHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an OFFER keeps an address for a machine that is no node: short, so a flood of DISCOVERs
    /// that never REQUEST gives the pool back quickly.</summary>
    public TimeSpan UnknownOfferHold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a declined address stays out of use.</summary>
    public TimeSpan DeclineQuarantine { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long after the ACK that bound an address its client may DECLINE it (RFC 2131 4.4.1: the client
    /// probes the address once bound). Later DECLINEs, and any after a renewal, are ignored.</summary>
    public TimeSpan DeclineWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Addresses one client may have in quarantine at once; its further DECLINEs are ignored.</summary>
    public int DeclinesPerClient { get; init; } = 2;

    /// <summary>Percentage of a pool that may be in quarantine at once; further DECLINEs are ignored.</summary>
    public int DeclineSharePercent { get; init; } = 10;

    /// <summary>Says whether a MAC is a node's; classifies leases restored from the journal (which does not record
    /// it). Without it restored leases count as nodes'.</summary>
    public Func<string, bool>? IsNode { get; init; }

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

    /// <summary>True when <paramref name="mac"/> holds an address now (offered, bound, or released and not yet
    /// expired): giving it one takes nothing more from the pool.</summary>
    public bool HoldsAddress(string mac) =>
        _byMac.TryGetValue(mac, out var lease) && lease.State != DhcpLeaseState.Declined && lease.HoldsAddress(Now);

    /// <summary><paramref name="mac"/>'s live bound (or released, still kept for it) lease on an address other than
    /// <paramref name="address"/>, or null.</summary>
    public DhcpLease? LiveLeaseElsewhere(string mac, Ip4 address) =>
        _byMac.TryGetValue(mac, out var lease) && lease.Address != address
        && lease.State is DhcpLeaseState.Bound or DhcpLeaseState.Released && lease.HoldsAddress(Now) ? lease : null;

    /// <summary>True when a machine that is no node may take one more address of <paramref name="subnet"/>: what
    /// such machines hold, plus the quarantined addresses, plus <paramref name="heldBack"/> (the addresses kept for
    /// nodes: one per node without a fixed address, and the fixed addresses inside the pools) stays below the pools'
    /// size. So a flood of unknown MACs never leaves a node without an address.</summary>
    public bool HasRoomForUnknown(DhcpSubnet subnet, int heldBack)
    {
        Learn(subnet);
        var now = Now;
        long size = 0;
        foreach (var pool in subnet.Pools)
            size += pool.Count;
        return _unknownHeld.Count(subnet, now) + _quarantined.Count(subnet, now) + (long)heldBack < size;
    }

    /// <summary>Addresses of <paramref name="subnet"/>'s pools held by machines that are no node now.</summary>
    public int UnknownHeld(DhcpSubnet subnet)
    {
        Learn(subnet);
        return _unknownHeld.Count(subnet, Now);
    }

    /// <summary>Addresses of <paramref name="subnet"/>'s pools in quarantine now.</summary>
    public int Quarantined(DhcpSubnet subnet)
    {
        Learn(subnet);
        return _quarantined.Count(subnet, Now);
    }

    /// <summary>Makes the pools of <paramref name="subnet"/> counted (the first time a subnet object is seen, the
    /// table is counted again: pools may have changed with a reload).</summary>
    public void Learn(DhcpSubnet subnet)
    {
        if (!_subnets.Add(subnet))
            return;
        foreach (var pool in subnet.Pools)
        {
            if (!_pools.Contains(pool))
                _pools.Add(pool);
        }
        _unknownHeld.Clear();
        _quarantined.Clear();
        foreach (var lease in _byAddress.Values)
            Track(lease);
    }

    /// <summary>Picks the address to offer: the client's fixed address, its current lease, the address it asks for,
    /// else a free pool address; and holds it for <see cref="OfferHold"/> (<see cref="UnknownOfferHold"/> when
    /// <paramref name="unknown"/>: the client is no node). Null when nothing is free.</summary>
    public DhcpLease? Offer(string mac, DhcpSubnet subnet, Ip4? fixedAddress, Ip4? requested, Func<Ip4, bool> reservedForOther, bool unknown = false)
    {
        Learn(subnet);
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
        var expires = Now + (unknown ? UnknownOfferHold : OfferHold);
        if (existing is not null && existing.Address == address && existing.State is DhcpLeaseState.Bound or DhcpLeaseState.Released
            && existing.Expires > expires)
            return existing;
        return Put(new DhcpLease(address, mac, DhcpLeaseState.Offered, expires, existing?.HostName) { Unknown = unknown }, journal: false);
    }

    /// <summary>Binds <paramref name="address"/> to <paramref name="mac"/> for <paramref name="leaseTime"/>; null when
    /// the address belongs to someone else. The record is journaled; call <see cref="Commit"/> before the ACK.</summary>
    public DhcpLease? Bind(string mac, Ip4 address, TimeSpan leaseTime, string? hostName, bool unknown = false)
    {
        if (!IsAvailableTo(address, mac))
            return null;
        // A renewal, or a REQUEST for an address the client holds already (bound, or released and kept for it),
        // opens no DECLINE window: a forged REQUEST must not make a live node's address declinable.
        var now = Now;
        var renewal = _byAddress.TryGetValue(address, out var previous) && previous.Mac == mac
            && previous.State is DhcpLeaseState.Bound or DhcpLeaseState.Released && previous.HoldsAddress(now);
        return Put(new DhcpLease(address, mac, DhcpLeaseState.Bound, now + leaseTime, hostName)
        {
            Unknown = unknown,
            DeclinableUntil = renewal ? null : now + DeclineWindow,
        }, journal: true);
    }

    /// <summary>The client's RELEASE of its bound lease on <paramref name="address"/>: the address stays its
    /// client's until the lease would have ended (no other machine gets it before, whoever sent the RELEASE).
    /// False when the client holds no live bound lease there.</summary>
    public bool Release(string mac, Ip4 address)
    {
        if (!_byAddress.TryGetValue(address, out var lease) || lease.Mac != mac || lease.State != DhcpLeaseState.Bound
            || !lease.HoldsAddress(Now))
            return false;
        Put(lease with { State = DhcpLeaseState.Released }, journal: true);
        return true;
    }

    /// <summary>Gives back the address offered to <paramref name="mac"/> (it chose another server).</summary>
    public void CancelOffer(string mac)
    {
        if (_byMac.TryGetValue(mac, out var held) && held.State == DhcpLeaseState.Offered)
            Put(held with { State = DhcpLeaseState.Released, Expires = Now }, journal: false);
    }

    /// <summary>Quarantines <paramref name="address"/> after its holder found it in use (DECLINE), within the
    /// limits: only the client the address is offered to, or bound to within <see cref="DeclineWindow"/> of the ACK
    /// (not renewed since), at most <see cref="DeclinesPerClient"/>
    /// addresses of one client and <see cref="DeclineSharePercent"/> of the pool in quarantine at once. Anything else
    /// changes nothing.</summary>
    public DhcpDeclineOutcome Decline(string mac, Ip4 address)
    {
        var now = Now;
        if (!_byAddress.TryGetValue(address, out var lease) || lease.Mac != mac
            || lease.State is not (DhcpLeaseState.Offered or DhcpLeaseState.Bound) || !lease.HoldsAddress(now))
            return DhcpDeclineOutcome.NotHolder;
        if (lease.State == DhcpLeaseState.Bound && !(lease.DeclinableUntil > now))
            return DhcpDeclineOutcome.TooLate;
        var mine = QuarantinedBy(mac, now);
        var refused = mine.Count >= DeclinesPerClient ? DhcpDeclineOutcome.ClientLimit
            : PoolOf(address) is { } pool && _quarantined.Count(pool, now) >= MaxQuarantined(pool) ? DhcpDeclineOutcome.PoolLimit
            : (DhcpDeclineOutcome?)null;
        if (refused is { } outcome)
        {
            if (mine.Count == 0)
                _declinedBy.Remove(mac);
            return outcome;
        }
        _byMac.Remove(mac);
        Put(new DhcpLease(address, string.Empty, DhcpLeaseState.Declined, now + DeclineQuarantine), journal: true);
        mine.Add(address);
        return DhcpDeclineOutcome.Quarantined;
    }

    /// <summary>The most addresses of <paramref name="pool"/> in quarantine at once (at least one unless the share
    /// is 0).</summary>
    public int MaxQuarantined(DhcpPool pool) =>
        (int)Math.Max(DeclineSharePercent > 0 ? 1 : 0, (long)pool.Count * DeclineSharePercent / 100);

    /// <summary>The addresses <paramref name="mac"/> declined that are still in quarantine (a list kept per client
    /// only while it has some).</summary>
    private List<Ip4> QuarantinedBy(string mac, DateTimeOffset now)
    {
        if (!_declinedBy.TryGetValue(mac, out var list))
        {
            list = [];
            _declinedBy[mac] = list;
        }
        list.RemoveAll(a => !_byAddress.TryGetValue(a, out var l) || l.State != DhcpLeaseState.Declined || !l.HoldsAddress(now));
        if (_declinedBy.Count > 1024)
        {
            // Clients whose quarantines all ended: forget them so the map stays as small as the quarantine.
            foreach (var (other, addresses) in _declinedBy.ToList())
            {
                if (other != mac && addresses.TrueForAll(a => !_byAddress.TryGetValue(a, out var l) || l.State != DhcpLeaseState.Declined || !l.HoldsAddress(now)))
                    _declinedBy.Remove(other);
            }
        }
        return list;
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
                // The client moves to another address. An offer is given up now; a bound (or released) lease stays
                // the client's, as released, until it would have ended: the move may be forged (any chaddr), and the
                // real client still uses that address until its renewal, which then takes it back.
                var kept = old.State is DhcpLeaseState.Bound or DhcpLeaseState.Released;
                var freed = old with { State = DhcpLeaseState.Released, Expires = kept ? old.Expires : Now };
                _byAddress[old.Address] = freed;
                Track(freed);
                if (old.State == DhcpLeaseState.Bound)
                    _journal?.Append(freed);
            }
            _byMac[lease.Mac] = lease;
        }
        _byAddress[lease.Address] = lease;
        Track(lease);
        if (journal)
            _journal?.Append(lease);
        return lease;
    }

    private DhcpPool? PoolOf(Ip4 address)
    {
        foreach (var pool in _pools)
        {
            if (pool.Contains(address))
                return pool;
        }
        return null;
    }

    /// <summary>Counts <paramref name="lease"/>'s address as quarantined, held by a machine that is no node, or
    /// neither, as it now stands.</summary>
    private void Track(DhcpLease lease)
    {
        _unknownHeld.Remove(lease.Address);
        _quarantined.Remove(lease.Address);
        if (PoolOf(lease.Address) is not { } pool || !lease.HoldsAddress(Now))
            return;
        if (lease.State == DhcpLeaseState.Declined)
            _quarantined.Set(lease.Address, pool, lease.Expires);
        else if (lease.Unknown ?? (IsNode is { } isNode && !isNode(lease.Mac)))
            _unknownHeld.Set(lease.Address, pool, lease.Expires);
    }

    private void Restore(DhcpLease lease)
    {
        if (_byAddress.TryGetValue(lease.Address, out var previous) && previous.Mac.Length > 0
            && _byMac.TryGetValue(previous.Mac, out var theirs) && theirs.Address == lease.Address)
            _byMac.Remove(previous.Mac);
        if (lease.Mac.Length > 0)
        {
            if (_byMac.TryGetValue(lease.Mac, out var mine) && mine.Address != lease.Address)
            {
                // Two addresses of one client: the released one is an address it moved away from or gave up, kept
                // for it until it ends; its bound lease stays the current one.
                if (lease.State == DhcpLeaseState.Released && mine.State == DhcpLeaseState.Bound)
                {
                    _byAddress[lease.Address] = lease;
                    return;
                }
                if (mine.State != DhcpLeaseState.Released)
                    _byAddress.Remove(mine.Address);
            }
            _byMac[lease.Mac] = lease;
        }
        _byAddress[lease.Address] = lease;
    }
}
