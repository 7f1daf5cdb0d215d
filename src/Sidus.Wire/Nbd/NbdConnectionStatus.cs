namespace Sidus.Wire.Nbd;

/// <summary>One client connection as the status endpoint shows it (Export is null while it negotiates).</summary>
public sealed record NbdConnectionStatus(EndPoint? Client, string? Export, long BytesRead, long Reads, DateTimeOffset Since);
