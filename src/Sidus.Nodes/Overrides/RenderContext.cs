namespace Sidus.Nodes.Overrides;

/// <summary>The image a node boots: the reference as resolved ("base@3") and its version id.</summary>
public sealed record ImageInfo(string Ref, string Version);

/// <summary>
/// What the site tells a render beyond the inventory: the server's address as nodes reach it ("10.0.0.1:80"),
/// the DNS domain and servers handed out by DHCP (null/empty when Sidus does not know them).
/// </summary>
public sealed record SiteInfo(string? ServerAddress, string? Domain, IReadOnlyList<IPAddress> Dns)
{
    public static readonly SiteInfo Unknown = new(null, null, []);
}

/// <summary>Everything one render needs: the inventory as of one snapshot, the node, its image, the site.</summary>
public sealed record RenderContext(InventorySnapshot Inventory, Node Node, ImageInfo? Image, SiteInfo Site)
{
    /// <summary>The node tag that sets the node's DNS domain (beats the site's).</summary>
    public const string DomainTag = "domain";

    public EffectiveSettings Settings => Inventory.Resolve(Node);

    public string? Domain => Settings.Tags.TryGetValue(DomainTag, out var tag) ? tag.Value : Site.Domain;

    /// <summary>
    /// The template variables and their values (null: known, but not set for this node). Documented in
    /// docs/overrides.md; keep the two in step.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Variables()
    {
        var node = Node;
        var domain = Domain;
        var server = Site.ServerAddress;
        var serverIp = server is null ? null : IPEndPoint.TryParse(server, out var endpoint) ? endpoint.Address.ToString() : server;
        var v = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["node.name"] = node.Name,
            ["node.domain"] = domain,
            ["node.fqdn"] = domain is null ? null : $"{node.Name}.{domain}",
            ["node.mac"] = node.Macs[0].ToString(),
            ["node.macs"] = string.Join(' ', node.Macs),
            ["node.ip"] = node.Ip?.ToString(),
            ["node.groups"] = string.Join(' ', node.Groups),
            ["node.mode"] = Settings.Mode.Value.ToText(),
            ["image.ref"] = Image?.Ref,
            ["image.version"] = Image?.Version,
            ["server.address"] = server,
            ["server.ip"] = serverIp,
            ["dns.servers"] = Site.Dns.Count == 0 ? null : string.Join(' ', Site.Dns),
        };
        foreach (var (key, value) in Settings.Tags)
        {
            v["tag." + key] = value.Value;
        }

        return v;
    }

    /// <summary>
    /// The template's values: <see cref="Variables"/> and the list <c>nodes</c>, one record per inventory node
    /// (name, ip, mac, macs, groups, mode) in name order, for files that list the cluster (hosts, slurm.conf).
    /// </summary>
    public TemplateValues TemplateValues()
    {
        var nodes = Inventory.Nodes.Select(n => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["name"] = n.Name,
            ["ip"] = n.Ip?.ToString(),
            ["mac"] = n.Macs[0].ToString(),
            ["macs"] = string.Join(' ', n.Macs),
            ["groups"] = string.Join(' ', n.Groups),
            ["mode"] = Inventory.Resolve(n).Mode.Value.ToText(),
        }).ToList();
        return new(Variables(), new Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string?>>>(StringComparer.Ordinal)
        {
            [NodesList] = nodes,
        });
    }

    /// <summary>The template list of every inventory node.</summary>
    public const string NodesList = "nodes";
}
