namespace Sidus.Wire.Nbd;

/// <summary>Every decision the NBD server logs.</summary>
internal static partial class NbdLog
{
    [LoggerMessage(1, LogLevel.Information, "NBD listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(2, LogLevel.Information, "NBD {Client} opened export {Export} ({Size} bytes)")]
    public static partial void Opened(ILogger logger, EndPoint? client, string export, long size);

    [LoggerMessage(3, LogLevel.Information, "NBD {Client} closed export {Export}: {Bytes} bytes read in {Reads} reads over {Seconds:F1} s ({Reason})")]
    public static partial void Closed(ILogger logger, EndPoint? client, string export, long bytes, long reads, double seconds, string reason);

    [LoggerMessage(4, LogLevel.Warning, "NBD {Client} dropped: {Reason}")]
    public static partial void Dropped(ILogger logger, EndPoint? client, string reason);

    [LoggerMessage(5, LogLevel.Information, "NBD {Client} option {Option} refused: {Reply} {Reason}")]
    public static partial void OptionRefused(ILogger logger, EndPoint? client, NbdOption option, NbdReplyType reply, string reason);

    [LoggerMessage(6, LogLevel.Warning, "NBD {Client} request {Command} at {Offset} length {Length} on {Export} refused: {Error}")]
    public static partial void RequestRefused(ILogger logger, EndPoint? client, NbdCommand command, ulong offset, uint length, string export, NbdError error);

    [LoggerMessage(7, LogLevel.Warning, "NBD refused a connection from {Client}: {Connections} connections already")]
    public static partial void TooManyConnections(ILogger logger, EndPoint? client, int connections);

    [LoggerMessage(8, LogLevel.Debug, "NBD {Client} listed {Count} exports")]
    public static partial void Listed(ILogger logger, EndPoint? client, int count);
}
