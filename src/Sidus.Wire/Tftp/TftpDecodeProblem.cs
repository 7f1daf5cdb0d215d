namespace Sidus.Wire.Tftp;

/// <summary>Why a packet was refused, and the error code to answer a request with.</summary>
public readonly record struct TftpDecodeProblem(TftpErrorCode ReplyCode, string Message)
{
    public static TftpDecodeProblem Illegal(string message) => new(TftpErrorCode.IllegalOperation, message);

    public static TftpDecodeProblem Option(string message) => new(TftpErrorCode.OptionNegotiationFailed, message);
}
