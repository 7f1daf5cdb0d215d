using System.Net;

namespace Sidus.Agent.Network;

/// <summary>What the DHCP server gave: address, prefix, router, DNS servers, lease time, the server's id.</summary>
internal sealed record DhcpLease(IPAddress Address, int PrefixLength, IPAddress? Router, IReadOnlyList<IPAddress> Dns, uint LeaseSeconds, IPAddress ServerId);
