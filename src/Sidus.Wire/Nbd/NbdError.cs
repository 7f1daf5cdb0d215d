namespace Sidus.Wire.Nbd;

/// <summary>Error values of a reply (the protocol's own numbering, equal to Linux errno values).</summary>
public enum NbdError : uint
{
    None = 0,
    NotPermitted = 1,
    InputOutput = 5,
    OutOfMemory = 12,
    Invalid = 22,
    NoSpace = 28,
    Overflow = 75,
    NotSupported = 95,
    Shutdown = 108,
}
