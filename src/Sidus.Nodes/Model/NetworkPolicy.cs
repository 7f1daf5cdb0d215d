using System.Net.Sockets;

namespace Sidus.Nodes;

/// <summary>
/// What the boot services do for a machine whose MAC no node has. Full DHCP leases it an address from the pool
/// whatever the policy (Sidus owns that network: BMCs, switches and laptops need addresses too); the policy decides
/// whether it also gets boot instructions.
/// </summary>
public enum UnknownMachinePolicy
{
    /// <summary>No boot instructions: an address only, no boot file, and the boot script refuses it (the default: a
    /// Sidus server never boots machines nobody asked for).</summary>
    Ignore = 1,

    /// <summary>Boot it with the network's default group settings and register it as discovered.</summary>
    Discover = 2,

    /// <summary>Boot it with the network's default group settings; nothing is registered (a lab where any machine may
    /// boot the group's image).</summary>
    Boot = 3,
}

/// <summary>A network Sidus serves, by subnet, with its policy for unknown machines.</summary>
public sealed record NetworkPolicy
{
    public required string Name { get; init; }

    private readonly string? _subnet;
    private readonly IPNetwork? _network;

    /// <summary>IPv4 subnet like 10.0.0.0/24; null matches every network (a catch-all).</summary>
    public string? Subnet
    {
        get => _subnet;
        init
        {
            _subnet = value;
            // Parsed once here, not per DHCP packet; an invalid text is refused by Validated().
            _network = value is not null && IPNetwork.TryParse(value, out var parsed) ? parsed : null;
        }
    }

    /// <summary>The subnet's prefix length, or -1 for a catch-all (the least specific).</summary>
    public int PrefixLength => _network?.PrefixLength ?? -1;

    public UnknownMachinePolicy Unknown { get; init; } = UnknownMachinePolicy.Ignore;

    /// <summary>The group whose settings an unknown machine boots with, and that adoption puts it in.</summary>
    public string? DefaultGroup { get; init; }

    public long Revision { get; init; }

    public NetworkPolicy Validated()
    {
        var name = Names.Label(Name, "network");
        string? subnet = null;
        if (Subnet is not null)
        {
            if (!IPNetwork.TryParse(Subnet, out var net) || net.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            {
                Throw.Invalid($"network '{name}': '{Subnet}' is not an IPv4 subnet like 10.0.0.0/24{HostBitsHint(Subnet)}");
            }

            if (HostBitsHint(Subnet) is { Length: > 0 } hint && !Subnet.StartsWith(net.BaseAddress + "/", StringComparison.Ordinal))
            {
                Throw.Invalid($"network '{name}': '{Subnet}' is an address, not a subnet{hint}");
            }

            subnet = net.ToString();
        }

        if (Unknown is UnknownMachinePolicy.Discover or UnknownMachinePolicy.Boot && DefaultGroup is null)
        {
            Throw.Invalid($"network '{name}': the {PolicyText(Unknown)} policy needs a group whose settings unknown machines boot with (--group)");
        }

        return this with
        {
            Name = name,
            Subnet = subnet,
            DefaultGroup = DefaultGroup is null ? null : Names.Label(DefaultGroup, "group"),
        };
    }

    /// <summary>" (did you mean 10.0.0.0/24?)" for "10.0.0.5/24": an address with its prefix is not the subnet's name.</summary>
    private static string HostBitsHint(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
        {
            return string.Empty;
        }

        var mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        var network = new IPAddress(BinaryPrimitives.ReverseEndianness(BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & mask));
        return $" (an address inside it was given: the subnet is {network}/{prefix})";
    }

    /// <summary>True when unknown machines on this network get boot instructions (discover and boot).</summary>
    public bool BootsUnknown => Unknown is UnknownMachinePolicy.Discover or UnknownMachinePolicy.Boot;

    /// <summary>True when <paramref name="address"/> lies in this network (always, for a catch-all).</summary>
    public bool Contains(IPAddress address) => Subnet is null || _network is { } network && network.Contains(address);

    /// <summary>The policy as a log line says it: "ignore", "discover (group compute)", "boot (group lab)".</summary>
    public string PolicyDescription => DefaultGroup is { } group && BootsUnknown ? $"{PolicyText(Unknown)} (group {group})" : PolicyText(Unknown);

    public static string PolicyText(UnknownMachinePolicy policy) => policy switch
    {
        UnknownMachinePolicy.Ignore => "ignore",
        UnknownMachinePolicy.Discover => "discover",
        UnknownMachinePolicy.Boot => "boot",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown policy"),
    };

    public static UnknownMachinePolicy ParsePolicy(string text) => text.Trim().ToLowerInvariant() switch
    {
        "ignore" => UnknownMachinePolicy.Ignore,
        "discover" => UnknownMachinePolicy.Discover,
        "boot" => UnknownMachinePolicy.Boot,
        _ => Throw.Invalid<UnknownMachinePolicy>($"'{text}' is not an unknown-machine policy: use ignore, discover or boot"),
    };
}
