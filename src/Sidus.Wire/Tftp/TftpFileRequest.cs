namespace Sidus.Wire.Tftp;

/// <summary>What a file source is asked for: the normalised path and the client (so it can answer per node).</summary>
public sealed record TftpFileRequest(string Path, IPEndPoint Client);
