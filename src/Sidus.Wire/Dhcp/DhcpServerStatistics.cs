namespace Sidus.Wire.Dhcp;

/// <summary>Counters since start, for status pages and tests.</summary>
public sealed record DhcpServerStatistics(long Received, long Malformed, long Ignored, long Replies, long Commits);
