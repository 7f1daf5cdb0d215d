namespace Sidus.Wire.Dhcp;

/// <summary>Where an address stands. The numbers are written to the lease journal: never renumber them.</summary>
public enum DhcpLeaseState : byte
{
    /// <summary>Held briefly for a client between OFFER and REQUEST; never journaled.</summary>
    Offered = 0,
    Bound = 1,
    Released = 2,
    /// <summary>A client said the address is in use by someone else; quarantined until it expires.</summary>
    Declined = 3,
}
