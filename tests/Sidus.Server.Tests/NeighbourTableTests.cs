using System.Net;
using Sidus.Server.Inventory;

namespace Sidus.Server.Tests;

public sealed class NeighbourTableTests
{
    [Fact]
    public void Find_ReadsTheMacOfAnAddress_AndIgnoresIncompleteEntries()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """
                IP address       HW type     Flags       HW address            Mask     Device
                10.99.0.100      0x1         0x2         52:54:00:5a:00:01     *        tap0
                10.99.0.101      0x1         0x0         00:00:00:00:00:00     *        tap0

                """);
            Assert.Equal("52:54:00:5a:00:01", NeighbourTable.Find(IPAddress.Parse("10.99.0.100"), path)?.ToString());
            Assert.Equal("52:54:00:5a:00:01", NeighbourTable.Find(IPAddress.Parse("::ffff:10.99.0.100"), path)?.ToString());
            Assert.Null(NeighbourTable.Find(IPAddress.Parse("10.99.0.101"), path));
            Assert.Null(NeighbourTable.Find(IPAddress.Parse("10.99.0.102"), path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
