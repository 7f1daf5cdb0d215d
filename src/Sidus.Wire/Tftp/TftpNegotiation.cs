namespace Sidus.Wire.Tftp;

/// <summary>
/// Grants requested options within the server's limits (RFC 2347/2348/2349/7440). Only options we honour are
/// acknowledged; a client that asked for nothing gets classic lock-step 512-byte blocks and no OACK.
/// </summary>
public static class TftpNegotiation
{
    public static TftpTransferParameters Negotiate(TftpRequestedOptions requested, long? fileLength, TftpServerOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var blockSize = TftpLimits.DefaultBlockSize;
        var windowSize = 1;
        var timeout = limits.RetransmitTimeout;
        var ack = new List<TftpOption>(4);
        if (requested.BlockSize is { } b)
        {
            blockSize = Math.Min(b, limits.MaxBlockSize);
            ack.Add(new TftpOption(TftpLimits.BlockSizeOption, Text(blockSize)));
        }

        // tsize is the real size; a length we cannot know (netascii, a generated stream) is simply not acknowledged.
        // Neither is 0: curl (7.x-8.x) rejects "tsize 0" in an OACK as illegal and fails the empty file it asked for.
        if (requested.TransferSize.HasValue && fileLength is { } length and > 0)
        {
            ack.Add(new TftpOption(TftpLimits.TransferSizeOption, Text(length)));
        }

        if (requested.TimeoutSeconds is { } seconds)
        {
            timeout = TimeSpan.FromSeconds(seconds);
            ack.Add(new TftpOption(TftpLimits.TimeoutOption, Text(seconds)));
        }

        if (requested.WindowSize is { } w)
        {
            windowSize = Math.Min(w, limits.MaxWindowSize);
            ack.Add(new TftpOption(TftpLimits.WindowSizeOption, Text(windowSize)));
        }

        return new TftpTransferParameters(blockSize, windowSize, timeout, [.. ack]);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
