namespace Sidus.Agent.Network;

/// <summary>The kernel's table of TCP connections (/proc/net/tcp, /proc/net/tcp6), read for one connection's state.</summary>
internal static class TcpTable
{
    private const string TcpEstablished = "01";
    private const int LocalField = 1;
    private const int RemoteField = 2;
    private const int StateField = 3;

    /// <summary>
    /// True when /proc/net/tcp(6) text TABLE has an established connection from LOCALPORT to REMOTEPORT. Ports are
    /// enough: the kernel's connection is the only one from its local port to the NBD server's port.
    /// </summary>
    public static bool IsEstablished(string table, int localPort, int remotePort)
    {
        foreach (var row in table.Split('\n').Skip(1))
        {
            var fields = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > StateField && fields[StateField] == TcpEstablished && Port(fields[LocalField]) == localPort && Port(fields[RemoteField]) == remotePort)
            {
                return true;
            }
        }

        return false;
    }

    private static int? Port(string address)
    {
        var colon = address.LastIndexOf(':');
        return colon >= 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port) ? port : null;
    }
}
