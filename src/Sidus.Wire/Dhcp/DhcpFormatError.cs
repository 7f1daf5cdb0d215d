namespace Sidus.Wire.Dhcp;

/// <summary>Why a datagram is not an acceptable DHCP message. <see cref="Truncated"/> and
/// <see cref="OptionsTruncated"/> mean bytes are missing (incomplete); every other value means the bytes are wrong.</summary>
public enum DhcpFormatError
{
    None = 0,
    Truncated,
    OptionsTruncated,
    TooLarge,
    BadOp,
    BadHardwareLength,
    TooManyHops,
    MissingMagicCookie,
    BadOverload,
    BadOptionLength,
    MissingMessageType,
    BadMessageType,
}

public static class DhcpFormatErrorExtensions
{
    /// <summary>True when the message was cut short rather than malformed.</summary>
    public static bool IsIncomplete(this DhcpFormatError error) =>
        error is DhcpFormatError.Truncated or DhcpFormatError.OptionsTruncated;
}
