namespace Sidus.Wire.Connections;

/// <summary>What the connection limits log.</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(1, LogLevel.Warning, "{Service} refused {Count} connection(s) since the last such line, the latest from {Client}: {Reason}")]
    public static partial void Refused(ILogger logger, string service, int count, EndPoint? client, string reason);

    [LoggerMessage(2, LogLevel.Warning, "{Service} cannot accept connections ({Reason}): retrying in {Milliseconds} ms")]
    public static partial void AcceptStalled(ILogger logger, string service, string reason, int milliseconds);
}
