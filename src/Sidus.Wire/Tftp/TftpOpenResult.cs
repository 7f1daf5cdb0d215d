namespace Sidus.Wire.Tftp;

/// <summary>A file source's answer: an open file, "not mine", or a refusal with a reason for the log.</summary>
public readonly struct TftpOpenResult
{
    private TftpOpenResult(TftpFile? file, bool denied, string reason)
    {
        File = file;
        Denied = denied;
        Reason = reason;
    }

    public static TftpOpenResult NotFound { get; } = new(null, false, "file not found");

    public TftpFile? File { get; }

    /// <summary>True when the name exists but must not be served (symlink, not a regular file, permissions).</summary>
    public bool Denied { get; }

    public string Reason { get; }

    public static TftpOpenResult Found(TftpFile file) => new(file ?? throw new ArgumentNullException(nameof(file)), false, string.Empty);

    public static TftpOpenResult Refuse(string reason) => new(null, true, reason);
}
