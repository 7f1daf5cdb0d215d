namespace Sidus.Nodes;

/// <summary>A machine the inventory knows. <see cref="Revision"/> grows by one with every stored change.</summary>
public sealed record Node
{
    public const int MaxMacs = 16;
    public const int MaxGroups = 32;

    public required string Name { get; init; }

    /// <summary>One or more interfaces; the first is the primary one.</summary>
    public ImmutableArray<MacAddress> Macs { get; init; } = [];

    /// <summary>Fixed IPv4 address (a DHCP reservation), or null for one from the pool.</summary>
    public IPAddress? Ip { get; init; }

    /// <summary>Groups in precedence order: an earlier group beats a later one.</summary>
    public ImmutableArray<string> Groups { get; init; } = [];

    public NodeSettings Settings { get; init; } = NodeSettings.Empty;

    public long Revision { get; init; }

    /// <summary>Checks names, MACs, address and settings; returns the normalised copy.</summary>
    public Node Validated()
    {
        var name = Names.Label(Name, "node");
        if (Macs.IsDefaultOrEmpty)
        {
            Throw.Invalid($"node '{name}' has no MAC address: give at least one (--mac aa:bb:cc:dd:ee:ff)");
        }

        if (Macs.Length > MaxMacs)
        {
            Throw.Invalid($"node '{name}' has {Macs.Length} MAC addresses; at most {MaxMacs} are allowed");
        }

        var seen = new HashSet<MacAddress>();
        foreach (var mac in Macs)
        {
            if (!seen.Add(mac))
            {
                Throw.Invalid($"node '{name}' lists MAC {mac} twice");
            }

            if (mac.NotACardProblem is { } problem)
            {
                Throw.Invalid($"node '{name}': {mac} is {problem}: copy the MAC from the machine's label, its firmware or `sidus node discovered`");
            }
        }

        var groups = Groups.IsDefault ? [] : Groups.Select(g => Names.Label(g, "group")).ToImmutableArray();
        if (groups.Length > MaxGroups)
        {
            Throw.Invalid($"node '{name}' is in {groups.Length} groups; at most {MaxGroups} are allowed");
        }

        if (groups.Distinct(StringComparer.Ordinal).Count() != groups.Length)
        {
            Throw.Invalid($"node '{name}' lists a group twice");
        }

        return this with
        {
            Name = name,
            Ip = Ip is null ? null : Names.Ipv4(Ip),
            Groups = groups,
            Settings = Settings.Validated(),
        };
    }
}
