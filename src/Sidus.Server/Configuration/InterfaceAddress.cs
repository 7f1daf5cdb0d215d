using System.Net.NetworkInformation;

namespace Sidus.Server.Configuration;

/// <summary>Reads an interface's IPv4 address and subnet, so a quick start needs only the interface name.</summary>
public static class InterfaceAddress
{
    /// <summary>The first IPv4 address on <paramref name="name"/> and its subnet; throws a clear error otherwise.</summary>
    public static (IPAddress Address, IPNetwork Subnet) Read(string name)
    {
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name);
        if (nic is null)
        {
            var known = string.Join(", ", NetworkInterface.GetAllNetworkInterfaces().Select(n => n.Name).Order(StringComparer.Ordinal));
            throw new ServeConfigException($"there is no network interface '{name}' (this machine has: {known})");
        }

        var v4 = nic.GetIPProperties().UnicastAddresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork);
        if (v4 is null)
        {
            throw new ServeConfigException(
                $"interface '{name}' has no IPv4 address: give it one (ip addr add 10.0.0.1/24 dev {name}) or set 'address' for it in sidus.toml");
        }

        return (v4.Address, new IPNetwork(Mask(v4.Address, v4.PrefixLength), v4.PrefixLength));
    }

    /// <summary>The network address of <paramref name="address"/> with a prefix of <paramref name="prefix"/> bits.</summary>
    public static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
