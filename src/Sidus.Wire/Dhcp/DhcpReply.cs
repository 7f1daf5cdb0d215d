namespace Sidus.Wire.Dhcp;

/// <summary>A reply and where it goes. <see cref="NeedsCommit"/> replies (ACKs) wait until the lease journal is
/// durable.</summary>
public sealed record DhcpReply(DhcpPacket Packet, IPEndPoint Destination, bool NeedsCommit);
