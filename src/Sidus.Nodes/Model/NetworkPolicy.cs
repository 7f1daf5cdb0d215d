using System.Net.Sockets;

namespace Sidus.Nodes;

/// <summary>What the boot services do for a machine whose MAC no node has.</summary>
public enum UnknownMachinePolicy
{
    /// <summary>Do not answer it (the default: a Sidus server never boots machines nobody asked for).</summary>
    Ignore = 1,

    /// <summary>Answer it with the network's default group settings and register it as discovered.</summary>
    Discover = 2,
}

/// <summary>A network Sidus serves, by subnet, with its policy for unknown machines.</summary>
public sealed record NetworkPolicy
{
    public required string Name { get; init; }

    /// <summary>IPv4 subnet like 10.0.0.0/24; null matches every network (a catch-all).</summary>
    public string? Subnet { get; init; }

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
                Throw.Invalid($"network '{name}': '{Subnet}' is not an IPv4 subnet like 10.0.0.0/24");
            }

            subnet = net.ToString();
        }

        if (Unknown == UnknownMachinePolicy.Discover && DefaultGroup is null)
        {
            Throw.Invalid($"network '{name}': the discover policy needs a default group (--group)");
        }

        return this with
        {
            Name = name,
            Subnet = subnet,
            DefaultGroup = DefaultGroup is null ? null : Names.Label(DefaultGroup, "group"),
        };
    }

    /// <summary>True when <paramref name="address"/> lies in this network (always, for a catch-all).</summary>
    public bool Contains(IPAddress address) => Subnet is null || IPNetwork.Parse(Subnet).Contains(address);

    public static string PolicyText(UnknownMachinePolicy policy) => policy switch
    {
        UnknownMachinePolicy.Ignore => "ignore",
        UnknownMachinePolicy.Discover => "discover",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown policy"),
    };

    public static UnknownMachinePolicy ParsePolicy(string text) => text.Trim().ToLowerInvariant() switch
    {
        "ignore" => UnknownMachinePolicy.Ignore,
        "discover" => UnknownMachinePolicy.Discover,
        _ => Throw.Invalid<UnknownMachinePolicy>($"'{text}' is not an unknown-machine policy: use ignore or discover"),
    };
}
