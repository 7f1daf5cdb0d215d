namespace Sidus.Wire.Dhcp;

/// <summary>A DHCP port could not be bound: which one, and the socket error (in use, or a missing permission).</summary>
public sealed class DhcpBindException : Exception
{
    public DhcpBindException(int port, SocketException innerException)
        : base($"UDP port {port}: {innerException?.Message}", innerException)
    {
        Port = port;
        SocketErrorCode = innerException?.SocketErrorCode ?? SocketError.SocketError;
    }

    public DhcpBindException() : this("The DHCP port could not be bound.") { }

    public DhcpBindException(string message) : base(message) => SocketErrorCode = SocketError.SocketError;

    public DhcpBindException(string message, Exception innerException) : base(message, innerException) =>
        SocketErrorCode = SocketError.SocketError;

    public int Port { get; }

    public SocketError SocketErrorCode { get; }
}
