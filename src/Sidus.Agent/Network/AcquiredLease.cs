namespace Sidus.Agent.Network;

/// <summary>What the DHCP server gave: address, prefix, router, DNS servers, lease time, the server's id.</summary>
internal sealed record AcquiredLease(IPAddress Address, int PrefixLength, IPAddress? Router, IReadOnlyList<IPAddress> Dns, uint LeaseSeconds, IPAddress ServerId);
