using System.Collections.Frozen;
using Sidus.Nodes.Layouts;

namespace Sidus.Nodes;

/// <summary>
/// The whole inventory at one <see cref="Version"/>, indexed for the boot services' hot path: look a MAC up,
/// resolve settings, pick the network policy. Immutable; the server keeps one and swaps in a new one when
/// <see cref="InventoryStore.GetVersionAsync"/> moves.
/// </summary>
public sealed class InventorySnapshot
{
    private readonly FrozenDictionary<string, Node> _nodes;
    private readonly FrozenDictionary<string, Group> _groups;
    private readonly FrozenDictionary<MacAddress, Node> _byMac;
    private readonly FrozenDictionary<string, DateTimeOffset> _revoked;
    private readonly FrozenDictionary<string, DateTimeOffset> _overridesRequested;
    private readonly FrozenDictionary<string, StoredLayout> _layouts;

    public InventorySnapshot(
        long version,
        IEnumerable<Node> nodes,
        IEnumerable<Group> groups,
        NodeSettings defaults,
        IEnumerable<NetworkPolicy> networks,
        IEnumerable<Access.AdminToken>? adminTokens = null,
        IReadOnlyDictionary<string, DateTimeOffset>? revoked = null,
        IReadOnlyDictionary<string, DateTimeOffset>? overridesRequested = null,
        IEnumerable<StoredLayout>? layouts = null)
    {
        AdminTokens = [.. (adminTokens ?? []).OrderBy(t => t.Name, StringComparer.Ordinal)];
        Version = version;
        Nodes = [.. nodes.OrderBy(n => n.Name, StringComparer.Ordinal)];
        Groups = [.. groups.OrderBy(g => g.Name, StringComparer.Ordinal)];
        Networks = [.. networks.OrderBy(n => n.Name, StringComparer.Ordinal)];
        Defaults = defaults;
        _nodes = Nodes.ToFrozenDictionary(n => n.Name, StringComparer.Ordinal);
        _groups = Groups.ToFrozenDictionary(g => g.Name, StringComparer.Ordinal);
        _byMac = Nodes.SelectMany(n => n.Macs.Select(m => (m, n))).ToFrozenDictionary(p => p.m, p => p.n);
        _revoked = (revoked ?? new Dictionary<string, DateTimeOffset>()).ToFrozenDictionary(StringComparer.Ordinal);
        Layouts = [.. (layouts ?? []).OrderBy(l => l.Name, StringComparer.Ordinal)];
        _layouts = Layouts.ToFrozenDictionary(l => l.Name, StringComparer.Ordinal);
        _overridesRequested = (overridesRequested ?? new Dictionary<string, DateTimeOffset>()).ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>When the admin last asked the running node to apply its overrides again (`sidus node apply-overrides`).</summary>
    public DateTimeOffset? OverridesRequestedAt(string node) => _overridesRequested.TryGetValue(node, out var at) ? at : null;

    /// <summary>When each node was last given a job (`sidus node update`, `sidus node drift`), by node name.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> JobsRequested { get; init; } = FrozenDictionary<string, DateTimeOffset>.Empty;

    /// <summary>When node NODE was last given a job, or null.</summary>
    public DateTimeOffset? JobRequestedAt(string node) => JobsRequested.TryGetValue(node, out var at) ? at : null;

    /// <summary>What installed nodes' disks hold, by node name (docs/installed-nodes.md).</summary>
    public IReadOnlyDictionary<string, InstalledRecord> Installs { get; init; } = FrozenDictionary<string, InstalledRecord>.Empty;

    /// <summary>The version node NODE's disk holds, or null when it is not installed.</summary>
    public InstalledRecord? Installed(string node) => Installs.TryGetValue(node, out var record) ? record : null;

    /// <summary>When the node's credentials were last revoked (`sidus node revoke`): any issued before are refused.</summary>
    public DateTimeOffset? RevokedAt(string node) => _revoked.TryGetValue(node, out var at) ? at : null;

    /// <summary>The change counter this snapshot was read at.</summary>
    public long Version { get; }

    public ImmutableArray<Node> Nodes { get; }

    public ImmutableArray<Group> Groups { get; }

    public ImmutableArray<NetworkPolicy> Networks { get; }

    public NodeSettings Defaults { get; }

    /// <summary>The admin tokens (names and hashes; the secrets are never stored).</summary>
    public ImmutableArray<Access.AdminToken> AdminTokens { get; }

    /// <summary>The disk layouts stored, each at its current (latest) revision.</summary>
    public ImmutableArray<StoredLayout> Layouts { get; }

    /// <summary>
    /// The current revision of layout NAME, or null when none is stored by that name (a node can still name it after
    /// `layout rm --force`: an install must then refuse). For an install: <c>snapshot.Layout(resolved.Layout.Value)</c>
    /// gives the text (<see cref="StoredLayout.Text"/>) and the parsed layout (<see cref="StoredLayout.Parse"/>).
    /// </summary>
    public StoredLayout? Layout(string name) => _layouts.GetValueOrDefault(name.ToLowerInvariant());

    public Node? FindNode(string name) => _nodes.GetValueOrDefault(name.ToLowerInvariant());

    public Node? FindByMac(MacAddress mac) => _byMac.GetValueOrDefault(mac);

    public Group? FindGroup(string name) => _groups.GetValueOrDefault(name.ToLowerInvariant());

    public EffectiveSettings Resolve(Node node) => SettingsResolver.Resolve(node, FindGroup, Defaults);

    /// <summary>
    /// The policy for a machine seen on <paramref name="address"/> (the interface or relay address it came through):
    /// the most specific subnet that contains it, else a catch-all network, else ignore.
    /// </summary>
    public NetworkPolicy? NetworkFor(IPAddress address)
    {
        NetworkPolicy? best = null;
        var bestPrefix = -1;
        foreach (var n in Networks)
        {
            var prefix = n.PrefixLength;
            if (n.Contains(address) && prefix > bestPrefix)
            {
                best = n;
                bestPrefix = prefix;
            }
            else if (n.Subnet is null && best is null)
            {
                best = n;
            }
        }

        return best;
    }

    /// <summary>
    /// Settings for an unknown machine on a network whose policy boots it (discover or boot): the network's default
    /// group over the defaults. Null when the policy gives it no boot instructions.
    /// </summary>
    public EffectiveSettings? ResolveUnknown(MacAddress mac, IPAddress seenOn)
    {
        if (NetworkFor(seenOn) is not { BootsUnknown: true } net)
        {
            return null;
        }

        var stand = new Node
        {
            Name = "unknown-" + mac.ToString().Replace(":", "", StringComparison.Ordinal),
            Macs = [mac],
            Groups = net.DefaultGroup is null ? [] : [net.DefaultGroup],
        };
        return Resolve(stand);
    }
}
