using System.Globalization;
using Sidus.Server.Configuration;

namespace Sidus.Server.Images;

/// <summary>
/// What a shared-mode boot script needs: the export cache (to have the version's erofs image ready before the node
/// asks for it) and the NBD address the node is told (sidus.nbd=ADDRESS:PORT).
/// </summary>
public sealed class SharedRoot(ErofsExports exports, NbdSettings settings, Func<int> port)
{
    public ErofsExports Exports => exports;

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
