namespace Sidus.Server.Inventory;

/// <summary>
/// The kernel's IPv4 neighbour table (/proc/net/arp). A TFTP request carries no MAC, but the client had to ARP for
/// us before sending it, so its address is there: that is how a TFTP download is put on the right node.
/// </summary>
public static class NeighbourTable
{
    private const string Path = "/proc/net/arp";
    private const int AddressColumn = 0;
    private const int MacColumn = 3;

    public static MacAddress? Find(IPAddress address, string path = Path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return null;
        }

        var wanted = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var line in lines.Skip(1))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length > MacColumn && IPAddress.TryParse(columns[AddressColumn], out var ip) && ip.Equals(wanted) &&
                MacAddress.TryParse(columns[MacColumn], out var mac) && mac.Value != 0)
            {
                return mac;
            }
        }

        return null;
    }
}
