namespace Sidus.Wire.Tftp;

/// <summary>A decoded RRQ or WRQ.</summary>
public sealed class TftpRequest
{
    public TftpRequest(TftpOpcode opcode, byte[] fileName, TftpMode mode, TftpRequestedOptions options, IReadOnlyList<string> ignoredOptions)
    {
        Opcode = opcode;
        FileName = fileName;
        Mode = mode;
        Options = options;
        IgnoredOptions = ignoredOptions;
    }

    public TftpOpcode Opcode { get; }

    /// <summary>The file name exactly as sent (without its NUL); file names are bytes.</summary>
    public byte[] FileName { get; }

    public TftpMode Mode { get; }

    public TftpRequestedOptions Options { get; }

    /// <summary>Names of options we do not know, kept for the log only.</summary>
    public IReadOnlyList<string> IgnoredOptions { get; }
}
