using Sidus.Wire.Dhcp;

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
    /// Where HTTP listens: the configured address; but when that is "any" and interfaces are served, only their
    /// addresses and loopback (the API must not answer on networks Sidus was not asked to serve).
    /// </summary>
    public static IReadOnlyList<IPAddress> HttpListenAddresses(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Http.Listen.Equals(IPAddress.Any) || options.Interfaces.Count == 0)
        {
            return [options.Http.Listen];
        }

        return [.. options.Interfaces.Select(i => i.Address ?? InterfaceAddress.Read(i.Name).Address).Append(IPAddress.Loopback).Distinct()];
    }

    /// <summary>
    /// The port to bind every HTTP address on: the configured one, or for port 0 with several addresses one free port
    /// picked on the first (Kestrel would give each address a different one).
    /// </summary>
    public static int HttpListenPort(ServeOptions options, IReadOnlyList<IPAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(addresses);
        if (options.Http.Port != 0 || addresses.Count < 2)
        {
            return options.Http.Port;
        }

        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(addresses[0], 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>File name of an interface's lease journal in the data directory.</summary>
    public static string LeaseFile(string home, string interfaceName) => Path.Combine(home, $"dhcp-leases-{interfaceName}.journal");

    /// <summary>What a pool must never lend: the server's own address, the subnet's network and broadcast addresses.</summary>
    private static string? PoolProblem(DhcpPool pool, Ip4 server, IPNetwork subnet)
    {
        if (pool.Contains(server))
        {
            return $"the server's own address {server}";
        }

        var network = Ip4.FromIPAddress(subnet.BaseAddress);
        var broadcast = new Ip4(network.Value | ~Ip4.MaskFromPrefix(subnet.PrefixLength).Value);
        if (subnet.PrefixLength <= 30 && pool.Contains(network))
        {
            return $"{network}, the network address of {subnet}";
        }

        return subnet.PrefixLength <= 30 && pool.Contains(broadcast) ? $"{broadcast}, the broadcast address of {subnet}" : null;
    }

    /// <summary>The DHCP server settings for one interface (address and subnet already resolved).</summary>
    public static DhcpServerOptions DhcpOptions(ServeOptions options, InterfaceSettings i)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(i);
        if (i.Address is null || i.Subnet is not { } subnet)
        {
            throw new ServeConfigException($"interface {i.Name}: its address is not known (set 'address' in sidus.toml)");
        }

        if (i.Dhcp == DhcpService.Full && i.Pools.Count == 0)
        {
            throw new ServeConfigException($"full DHCP on {i.Name} needs an address pool: --pool FIRST-LAST (or 'pools' in sidus.toml)");
        }

        var pools = new List<DhcpPool>();
        foreach (var text in i.Pools)
        {
            DhcpPool pool;
            try
            {
                pool = DhcpPool.Parse(text);
            }
            catch (FormatException e)
            {
                throw new ServeConfigException($"interface {i.Name}: {e.Message}", e);
            }

            if (!subnet.Contains(pool.First.ToIPAddress()) || !subnet.Contains(pool.Last.ToIPAddress()))
            {
                throw new ServeConfigException($"interface {i.Name}: pool {text} is not inside its subnet {subnet}");
            }

            if (PoolProblem(pool, Ip4.FromIPAddress(i.Address), subnet) is { } problem)
            {
                throw new ServeConfigException($"interface {i.Name}: pool {text} holds {problem}: make the pool a range that leaves it out");
            }

            pools.Add(pool);
        }

        var port = options.Http.Port == ServeOptions.DefaultHttpPort ? string.Empty : ":" + options.Http.Port.ToString(CultureInfo.InvariantCulture);
        return new DhcpServerOptions
        {
            InterfaceName = i.Name,
            Mode = i.Dhcp == DhcpService.Proxy ? DhcpMode.Proxy : DhcpMode.Full,
            ServerAddress = Ip4.FromIPAddress(i.Address),
            SubnetMask = Ip4.MaskFromPrefix(subnet.PrefixLength),
            Router = i.Router is null ? null : Ip4.FromIPAddress(i.Router),
            DnsServers = [.. i.Dns.Select(Ip4.FromIPAddress)],
            DomainName = i.Domain,
            LeaseTime = i.LeaseTime,
            OfferHold = options.Dhcp.OfferHold,
            UnknownOfferHold = options.Dhcp.UnknownOfferHold,
            DeclineQuarantine = options.Dhcp.DeclineQuarantine,
            DeclinesPerClient = options.Dhcp.DeclinesPerClient,
            DeclineSharePercent = options.Dhcp.DeclineShare,
            Pools = pools,
            LeaseFile = i.Dhcp == DhcpService.Full ? LeaseFile(options.Home, i.Name) : null,
            ScriptUrlTemplate = "http://{server}" + port + NodeRoutes.Script("{mac-hyphen}"),
        };
    }
}
