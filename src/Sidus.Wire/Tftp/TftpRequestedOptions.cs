namespace Sidus.Wire.Tftp;

/// <summary>
/// The options of a request that Sidus understands, already checked against their RFC ranges; null when absent.
/// Unknown options are dropped while decoding and never acknowledged.
/// </summary>
public readonly record struct TftpRequestedOptions(int? BlockSize, long? TransferSize, int? TimeoutSeconds, int? WindowSize)
{
    public bool Any => BlockSize.HasValue || TransferSize.HasValue || TimeoutSeconds.HasValue || WindowSize.HasValue;
}
