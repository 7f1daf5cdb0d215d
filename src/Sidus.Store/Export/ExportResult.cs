namespace Sidus.Store.Export;

/// <summary>What an export wrote, and what the format could not hold (each also named in Warnings).</summary>
public sealed record ExportResult
{
    public long Entries { get; init; }
    public long DataBytes { get; init; }

    /// <summary>Sockets left out (tar cannot hold them).</summary>
    public long SkippedSockets { get; init; }

    /// <summary>Entries whose xattrs the format cannot hold (cpio).</summary>
    public long DroppedXattrs { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Bytes of the output file (0 when written to a stream).</summary>
    public long OutputBytes { get; init; }
}
