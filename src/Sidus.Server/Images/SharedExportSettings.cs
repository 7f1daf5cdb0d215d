namespace Sidus.Server.Images;

/// <summary>
/// Where nodes reach the versions' shared exports: the NBD address a ram or shared boot script tells the node
/// (sidus.nbd=ADDRESS:PORT). Present only when the server serves NBD.
/// </summary>
public sealed class SharedExportSettings(NbdSettings settings, Func<int> port)
{
    /// <summary>
    /// The NBD endpoint for a node that reached HTTP at <paramref name="httpServer"/> ("IP:PORT" or "[IPv6]:PORT"):
    /// the configured address if any, else the same IP, with the NBD port.
    /// </summary>
    public string Endpoint(string httpServer)
    {
        ArgumentNullException.ThrowIfNull(httpServer);
        string host;
        if (settings.Address is { } address)
        {
            host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        }
        else
        {
            var colon = httpServer.LastIndexOf(':');
            host = colon > 0 && !httpServer.EndsWith(']') ? httpServer[..colon] : httpServer;
        }

        return host + ":" + port().ToString(CultureInfo.InvariantCulture);
    }
}
