namespace Sidus.Wire.Tftp;

/// <summary>Every decision the TFTP server logs, in one place so the wording stays consistent.</summary>
internal static partial class TftpLog
{
    [LoggerMessage(1, LogLevel.Information, "TFTP listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(2, LogLevel.Information, "TFTP RRQ {File} from {Client} mode {Mode} options [{Options}]")]
    public static partial void ReadRequest(ILogger logger, string file, IPEndPoint client, TftpMode mode, string options);

    [LoggerMessage(3, LogLevel.Warning, "TFTP refused {File} to {Client}: {Code} {Reason}")]
    public static partial void Refused(ILogger logger, string file, IPEndPoint client, TftpErrorCode code, string reason);

    [LoggerMessage(4, LogLevel.Warning, "TFTP dropped a malformed packet from {Client}: {Reason}")]
    public static partial void Malformed(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(5, LogLevel.Information, "TFTP sent {File} to {Client}: {Bytes} bytes in {Milliseconds} ms ({MegabytesPerSecond:F1} MB/s, blksize {BlockSize}, windowsize {WindowSize}, {Retransmits} retransmissions)")]
    public static partial void Completed(ILogger logger, string file, IPEndPoint client, long bytes, long milliseconds, double megabytesPerSecond, int blockSize, int windowSize, long retransmits);

    [LoggerMessage(6, LogLevel.Information, "TFTP sent {File} to {Client} ({Bytes} bytes) but the last ACK never came")]
    public static partial void FinalAckMissing(ILogger logger, string file, IPEndPoint client, long bytes);

    [LoggerMessage(7, LogLevel.Warning, "TFTP gave up {File} to {Client} after {Retransmits} silent timeouts at block {Block}")]
    public static partial void TimedOut(ILogger logger, string file, IPEndPoint client, int retransmits, long block);

    [LoggerMessage(8, LogLevel.Information, "TFTP {Client} ended {File} after the option acknowledgement ({Code} {Message}): a size probe")]
    public static partial void EndedAfterOptionAck(ILogger logger, string file, IPEndPoint client, TftpErrorCode code, string message);

    [LoggerMessage(9, LogLevel.Warning, "TFTP {Client} aborted {File} at block {Block}: {Code} {Message}")]
    public static partial void AbortedByClient(ILogger logger, string file, IPEndPoint client, long block, TftpErrorCode code, string message);

    [LoggerMessage(10, LogLevel.Warning, "TFTP packet for the transfer of {File} to {Client} came from {Stranger}: answered unknown transfer ID")]
    public static partial void WrongTransferId(ILogger logger, string file, IPEndPoint client, IPEndPoint stranger);

    [LoggerMessage(11, LogLevel.Information, "TFTP new request from {Client} replaces its transfer of {File}")]
    public static partial void Replaced(ILogger logger, string file, IPEndPoint client);

    [LoggerMessage(12, LogLevel.Debug, "TFTP request from {Client} dropped by the per-source rate limit")]
    public static partial void RateLimited(ILogger logger, IPEndPoint client);

    [LoggerMessage(13, LogLevel.Warning, "TFTP receive failed on the request socket: {Reason}")]
    public static partial void ListenerError(ILogger logger, string reason);

    [LoggerMessage(14, LogLevel.Error, "TFTP transfer of {File} to {Client} failed")]
    public static partial void TransferFailed(ILogger logger, Exception exception, string file, IPEndPoint client);

    [LoggerMessage(15, LogLevel.Debug, "TFTP ignored {Opcode} from {Client} on the request port")]
    public static partial void IgnoredOnRequestPort(ILogger logger, TftpOpcode opcode, IPEndPoint client);

    [LoggerMessage(16, LogLevel.Information, "TFTP stopped listening on {Endpoint}")]
    public static partial void Stopped(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(17, LogLevel.Warning, "TFTP stopped {File} to {Client}: the transfer took longer than {Limit}")]
    public static partial void TransferTimeLimit(ILogger logger, string file, IPEndPoint client, TimeSpan limit);

    [LoggerMessage(18, LogLevel.Information, "TFTP {Client} never answered the first packet of {File} within {Seconds:F0} s: not sent again (a client that lost it asks again)")]
    public static partial void NoFirstAnswer(ILogger logger, string file, IPEndPoint client, double seconds);

    [LoggerMessage(19, LogLevel.Debug, "TFTP request from {Client} dropped: {Limit} transfers from that address are running")]
    public static partial void SourceBusy(ILogger logger, IPEndPoint client, int limit);
}
