namespace Sidus.Wire.Nbd;

/// <summary>One transmission request header (a write's data follows it on the wire).</summary>
public readonly record struct NbdRequest(NbdCommandFlags Flags, NbdCommand Command, ulong Cookie, ulong Offset, uint Length);
