namespace Sidus.Wire.Tftp;

/// <summary>How requested file names are turned into paths under the root.</summary>
public sealed record TftpPathOptions
{
    /// <summary>
    /// Accept "/x/y" as "x/y". Off by default: a name is always relative to the root, and an absolute name is refused
    /// so a client can never believe it fetched a system path. Turn on for ROMs configured with absolute names.
    /// </summary>
    public bool AllowRootedPaths { get; init; }

    /// <summary>Strip trailing 0xFF bytes that some old PXE ROMs append to the option-67 name.</summary>
    public bool StripTrailingFF { get; init; }

    /// <summary>Longest accepted name, in bytes after normalising.</summary>
    public int MaxPathLength { get; init; } = 255;

    /// <summary>Longest single component (Linux NAME_MAX).</summary>
    public int MaxSegmentLength { get; init; } = 255;
}
