namespace Sidus.Wire.Tftp;

/// <summary>
/// Supplies the files the TFTP server serves: a root directory, or virtual per-node files (rendered configs, an
/// image's kernel). Sources are asked in order; the first answer that is not NotFound wins.
/// </summary>
public interface ITftpFileSource
{
    /// <param name="request">A normalised root-relative path (no "..", no leading "/") and who asks.</param>
    ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken);
}
