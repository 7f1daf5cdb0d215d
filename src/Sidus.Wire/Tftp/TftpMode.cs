namespace Sidus.Wire.Tftp;

/// <summary>Transfer mode named in a request (RFC 1350); Sidus serves octet and netascii.</summary>
public enum TftpMode
{
    Octet,
    Netascii,
    Mail,
}
