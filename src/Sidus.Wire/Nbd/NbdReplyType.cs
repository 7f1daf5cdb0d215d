namespace Sidus.Wire.Nbd;

/// <summary>Option reply types (NBD_REP_*); the error replies have the top bit set.</summary>
public enum NbdReplyType : uint
{
    Ack = 1,
    Server = 2,
    Info = 3,
    MetaContext = 4,

    ErrorUnsupported = ErrorBit | 1,
    ErrorPolicy = ErrorBit | 2,
    ErrorInvalid = ErrorBit | 3,
    ErrorPlatform = ErrorBit | 4,
    ErrorTlsRequired = ErrorBit | 5,
    ErrorUnknown = ErrorBit | 6,
    ErrorShutdown = ErrorBit | 7,
    ErrorBlockSizeRequired = ErrorBit | 8,
    ErrorTooBig = ErrorBit | 9,

    /// <summary>Set in every error reply type.</summary>
    ErrorBit = 0x8000_0000,
}
