using Sidus.Server.Configuration;
using Sidus.Wire.Dhcp;

namespace Sidus.Cli.Commands.Inventory;

/// <summary>
/// The DHCP pools of sidus.toml, as `sidus serve` reads them: a node's fixed address inside one would be lent to
/// another machine, so the inventory verbs refuse it. Read only when a fixed address is being set.
/// </summary>
public static class ConfiguredPools
{
    public static Func<IPAddress, string?> Rule(ParseResult r, Option<string?> db) => ip =>
    {
        ServeOptions options;
        try
        {
            options = Node.NodeRenderCommand.LoadOptions(r, db, config: null);
        }
        catch (ServeConfigException)
        {
            // A broken sidus.toml is `sidus serve`'s to report; it has no pools to check against here.
            return null;
        }

        var address = Ip4.FromIPAddress(ip);
        foreach (var i in options.Interfaces)
        {
            foreach (var text in i.Pools)
            {
                if (TryParse(text) is { } pool && pool.Contains(address))
                {
                    return $"inside the DHCP pool {pool} of interface {i.Name} (sidus.toml), which lends it to any machine: "
                        + "choose an address outside the pools, or shrink the pool";
                }
            }
        }

        return null;
    };

    private static DhcpPool? TryParse(string text)
    {
        try
        {
            return DhcpPool.Parse(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
