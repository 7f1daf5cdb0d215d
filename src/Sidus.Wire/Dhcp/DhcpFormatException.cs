namespace Sidus.Wire.Dhcp;

/// <summary>The typed rejection of a malformed or incomplete DHCP datagram: the only exception decoding throws.</summary>
public sealed class DhcpFormatException : Exception
{
    public DhcpFormatException(DhcpFormatError error)
        : base($"Rejected DHCP datagram: {error}.") => Error = error;

    public DhcpFormatException() : this(DhcpFormatError.Truncated) { }

    public DhcpFormatException(string message) : base(message) => Error = DhcpFormatError.Truncated;

    public DhcpFormatException(string message, Exception innerException) : base(message, innerException) =>
        Error = DhcpFormatError.Truncated;

    public DhcpFormatError Error { get; }

    public bool IsIncomplete => Error.IsIncomplete();
}
