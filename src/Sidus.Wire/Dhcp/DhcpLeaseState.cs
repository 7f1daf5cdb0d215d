namespace Sidus.Wire.Dhcp;

/// <summary>Where an address stands. The numbers are written to the lease journal: never renumber them.</summary>
public enum DhcpLeaseState : byte
{
    /// <summary>Held briefly for a client between OFFER and REQUEST; never journaled.</summary>
    Offered = 0,
    Bound = 1,
    /// <summary>Its client sent a RELEASE: the address stays the client's until the expiry of the lease it
    /// released, then goes back to the pool (sticky for that client as long as nobody else needs it).</summary>
    Released = 2,
    /// <summary>A client said the address is in use by someone else; quarantined until it expires.</summary>
    Declined = 3,
}
