namespace Sidus.Wire.Nbd;

/// <summary>
/// Outcome of decoding bytes from a client. Incomplete: the bytes end early and more may make them valid (read
/// more); Invalid: the bytes present are wrong whatever follows (log, answer if the protocol allows, hang up).
/// </summary>
public enum NbdDecodeStatus
{
    Done,
    Incomplete,
    Invalid,
}
