namespace Sidus.Wire.Dhcp;

/// <summary>One address and who holds it until when. <see cref="Mac"/> is empty for a declined address.</summary>
public sealed record DhcpLease(Ip4 Address, string Mac, DhcpLeaseState State, DateTimeOffset Expires, string? HostName = null)
{
    /// <summary>True while nobody else may be given the address.</summary>
    public bool HoldsAddress(DateTimeOffset now) =>
        State is DhcpLeaseState.Offered or DhcpLeaseState.Bound or DhcpLeaseState.Declined && Expires > now;
}
