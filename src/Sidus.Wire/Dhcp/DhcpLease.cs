namespace Sidus.Wire.Dhcp;

/// <summary>One address and who holds it until when. <see cref="Mac"/> is empty for a declined address. A released
/// address stays its client's until <see cref="Expires"/> (the end of the lease it released): a RELEASE can be forged,
/// so it never hands a live machine's address to another one.</summary>
public sealed record DhcpLease(Ip4 Address, string Mac, DhcpLeaseState State, DateTimeOffset Expires, string? HostName = null)
{
    /// <summary>True when the holder is a machine that is no node (it counts against what such machines may hold);
    /// false for a node; null for a lease restored from the journal and not classified yet (not journaled).</summary>
    public bool? Unknown { get; init; }

    /// <summary>Until when its client may DECLINE this bound lease: a short while after the ACK that bound the
    /// address to it (when a client probes the address and finds it in use); null after a renewal or a restart (not
    /// journaled), so a forged DECLINE cannot quarantine a live node's address.</summary>
    public DateTimeOffset? DeclinableUntil { get; init; }

    /// <summary>True while nobody else may be given the address: in every state (offered, bound, released,
    /// declined) until it expires.</summary>
    public bool HoldsAddress(DateTimeOffset now) => Expires > now;
}
