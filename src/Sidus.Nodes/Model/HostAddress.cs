using System.Net.Sockets;

namespace Sidus.Nodes;

/// <summary>
/// Whether an IPv4 address can be a machine's own: not a subnet's network or broadcast address, not multicast or
/// all-zero. Loopback is accepted: a "node" on the server's own machine is how tests and trials reach it. The subnet is the most specific one the inventory's networks declare; without one, a /24
/// is assumed (its .0 and .255 refused), and declaring a wider subnet lifts that.
/// </summary>
public static class HostAddress
{
    private const int AssumedPrefix = 24;

    /// <summary>Why <paramref name="ip"/> cannot be a machine's address ("the broadcast address of 10.0.0.0/24"),
    /// or null when it can.</summary>
    public static string? Problem(IPAddress ip, IEnumerable<NetworkPolicy> networks)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (ip.AddressFamily != AddressFamily.InterNetwork)
        {
            return "not an IPv4 address";
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes());
        if (value == 0)
        {
            return "the all-zero address, which means \"no address\"";
        }

        if (value >> 28 == 0xE)
        {
            return "a multicast address (224.0.0.0/4)";
        }

        var declared = networks.Where(n => n.Subnet is not null && n.Contains(ip)).MaxBy(n => n.PrefixLength);
        var prefix = declared?.PrefixLength ?? AssumedPrefix;
        if (prefix > 30)
        {
            return null;
        }

        var mask = uint.MaxValue << (32 - prefix);
        var subnet = $"{new IPAddress(BinaryPrimitives.ReverseEndianness(value & mask))}/{prefix}";
        var assumed = declared is null
            ? " (no network declares this address's subnet, so a /24 is assumed: if yours is wider, declare it with `sidus network set NAME --subnet CIDR`)"
            : string.Empty;
        if ((value & ~mask) == 0)
        {
            return $"the network address of {subnet}, which no machine can have{assumed}";
        }

        return (value & ~mask) == ~mask ? $"the broadcast address of {subnet}, which no machine can have{assumed}" : null;
    }

    /// <summary>Refuses <paramref name="ip"/> as WHO's address when <see cref="Problem"/> finds one.</summary>
    public static void Check(IPAddress ip, IEnumerable<NetworkPolicy> networks, string who)
    {
        if (Problem(ip, networks) is { } problem)
        {
            Throw.Invalid($"{who}: {ip} is {problem}: choose another address");
        }
    }
}
