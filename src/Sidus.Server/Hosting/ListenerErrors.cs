using Sidus.Linux;

namespace Sidus.Server.Hosting;

/// <summary>What a failed bind means and what to do about it, said the same way for every listener.</summary>
internal static class ListenerErrors
{
    /// <param name="service">"TFTP", "NBD", "HTTP".</param>
    /// <param name="protocol">The port's protocol, to name the process that holds it.</param>
    /// <param name="usualHolders">Who usually holds the port ("tftpd-hpa, dnsmasq or another sidus serve?").</param>
    /// <param name="portOption">The option that chooses another port.</param>
    /// <param name="offOption">The option that turns the service off, or null when it cannot be.</param>
    public static Exception Bind(SocketException e, string service, ProtocolType protocol, IPAddress listen, int port, string usualHolders, string portOption, string? offOption)
    {
        var off = offOption is null ? string.Empty : $", or turn {service} off with {offOption}";
        return e.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse when PortHolders.Describe(protocol, port) is { } holder => new ServeConfigException(
                $"{service} port {port} on {listen} is already held by {holder}: stop it first, or choose another port with {portOption}{off}", e),
            SocketError.AddressAlreadyInUse => new ServeConfigException(
                $"{service} port {port} on {listen} is already in use ({usualHolders}): stop that service, or choose another port with {portOption}{off}", e),
            SocketError.AccessDenied => new ServeConfigException(
                $"binding {service} port {port} needs root (or CAP_NET_BIND_SERVICE): run sidus serve as root, or choose a port above 1023 with {portOption}", e),
            SocketError.AddressNotAvailable => new ServeConfigException($"{service} cannot listen on {listen}: no interface has that address", e),
            _ => e,
        };
    }
}
