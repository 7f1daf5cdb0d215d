using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Server.Configuration;
using Sidus.Server.Inventory;

namespace Sidus.Server.Hosting;

/// <summary>Turns the configuration into running pieces that need the machine: interface addresses, DHCP servers.</summary>
public static class ServeSetup
{
    /// <summary>Fills in each DHCP interface's address and subnet from the interface when the file did not give them.</summary>
    public static ServeOptions ResolveInterfaces(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Interfaces = [.. options.Interfaces.Select(i =>
            {
                if (i.Address is not null && i.Subnet is not null)
                {
                    return i;
                }

                var (address, subnet) = InterfaceAddress.Read(i.Name);
                return i with { Address = address, Subnet = subnet };
            })],
        };
    }

    /// <summary>
    /// The DHCP services for the interfaces whose mode is not off. The DHCP server lives on its own branch; until
    /// it is merged, asking for DHCP is refused clearly rather than silently ignored.
    /// </summary>
    public static Func<InventoryView, ILoggerFactory, IEnumerable<IHostedService>> ExtraServices(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var wanted = options.Interfaces.Where(i => i.Dhcp != DhcpService.Off).ToList();
        if (wanted.Count > 0)
        {
            throw new ServeConfigException(
                $"DHCP ({string.Join(", ", wanted.Select(i => $"{i.Name}: {i.Dhcp.ToString().ToLowerInvariant()}"))}) is not built into this sidus yet: use --dhcp off and another DHCP server");
        }

        return (_, _) => [];
    }
}
