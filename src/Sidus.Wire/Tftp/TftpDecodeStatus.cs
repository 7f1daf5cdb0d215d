namespace Sidus.Wire.Tftp;

/// <summary>
/// Outcome of decoding one datagram. Incomplete means the bytes end early (a truncated packet: a longer datagram
/// could still be valid); Invalid means the bytes present are wrong whatever might follow.
/// </summary>
public enum TftpDecodeStatus
{
    Done,
    Incomplete,
    Invalid,
}
