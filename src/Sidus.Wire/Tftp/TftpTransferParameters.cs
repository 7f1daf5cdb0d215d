namespace Sidus.Wire.Tftp;

/// <summary>What a transfer runs with after negotiation, and the OACK to send (empty: no OACK, plain RFC 1350).</summary>
public sealed record TftpTransferParameters(int BlockSize, int WindowSize, TimeSpan RetransmitTimeout, TftpOption[] OptionAck);
