namespace Sidus.Nodes;

/// <summary>What an installed node's disk holds: a version (its id and IMAGE@SEQ), installed at
/// <see cref="InstalledAt"/>, and brought there by an update at <see cref="UpdatedAt"/> when one did.</summary>
public sealed record InstalledRecord(string Node, string Version, string ImageRef, DateTimeOffset InstalledAt, DateTimeOffset? UpdatedAt);

/// <summary>A node's latest job (`sidus node update`, `sidus node drift`): when asked, and the agent's answer once given.</summary>
public sealed record NodeJobRecord(DateTimeOffset RequestedAt, DateTimeOffset? AnsweredAt, bool? Succeeded, string? Result);
