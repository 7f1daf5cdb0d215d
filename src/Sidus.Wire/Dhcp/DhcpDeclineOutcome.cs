namespace Sidus.Wire.Dhcp;

/// <summary>What became of a DECLINE.</summary>
public enum DhcpDeclineOutcome
{
    /// <summary>The address is out of use for the quarantine time.</summary>
    Quarantined,

    /// <summary>The client does not hold the address (an offer or a live lease of its own): ignored.</summary>
    NotHolder,

    /// <summary>The client's lease was bound longer ago than <see cref="DhcpLeaseTable.DeclineWindow"/>, or renewed
    /// since: a real client DECLINEs right after the ACK, so this one is ignored.</summary>
    TooLate,

    /// <summary>The client already has as many addresses in quarantine as one client may: ignored.</summary>
    ClientLimit,

    /// <summary>The pool already has as large a share in quarantine as it may: ignored.</summary>
    PoolLimit,
}
