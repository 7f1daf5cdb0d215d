namespace Sidus.Wire.Dhcp;

/// <summary>Everything the DHCP server needs to know about its network. The directly attached subnet is
/// <see cref="ServerAddress"/>/<see cref="SubnetMask"/> with <see cref="Pools"/>; relayed subnets come in
/// <see cref="RelaySubnets"/>.</summary>
public sealed record DhcpServerOptions
{
    /// <summary>The interface to serve (SO_BINDTODEVICE); broadcasts leave through it. Null serves every interface
    /// and is only sensible for relayed traffic.</summary>
    public string? InterfaceName { get; init; }

    public DhcpMode Mode { get; init; } = DhcpMode.Full;

    /// <summary>Our address on the served interface: server identifier (54), siaddr and next-server.</summary>
    public required Ip4 ServerAddress { get; init; }

    public Ip4 SubnetMask { get; init; } = Ip4.MaskFromPrefix(24);

    public Ip4? Router { get; init; }

    public IReadOnlyList<Ip4> DnsServers { get; init; } = [];

    public string? DomainName { get; init; }

    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    public IReadOnlyList<DhcpPool> Pools { get; init; } = [];

    public IReadOnlyList<DhcpSubnet> RelaySubnets { get; init; } = [];

    /// <summary>Lease journal path; null keeps leases in memory only.</summary>
    public string? LeaseFile { get; init; }

    /// <summary>How long an OFFER keeps its address for a node.</summary>
    public TimeSpan OfferHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an OFFER keeps its address for a machine that is no node.</summary>
    public TimeSpan UnknownOfferHold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a declined address stays out of use.</summary>
    public TimeSpan DeclineQuarantine { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Declined addresses one client may have in quarantine at once.</summary>
    public int DeclinesPerClient { get; init; } = 2;

    /// <summary>Percentage of a pool that may be in quarantine at once.</summary>
    public int DeclineSharePercent { get; init; } = 10;

    public DhcpBootFiles BootFiles { get; init; } = new();

    /// <summary>Where iPXE fetches its script; {server}, {mac} (colon hex), {mac-hyphen} and {node} are replaced.</summary>
    public string ScriptUrlTemplate { get; init; } = "http://{server}:8080/boot/{mac}.ipxe";

    /// <summary>Vendor class (option 60) prefixes that mark a PXE client; "HW-Client" for Huawei arm64, for example.</summary>
    public IReadOnlyList<string> PxeVendorPrefixes { get; init; } = ["PXEClient", "HTTPClient"];

    /// <summary>In proxy mode, UEFI clients get a direct answer (option 43, suboption 6 = 8) instead of being sent
    /// to port 4011; many UEFI ROMs ignore the direct form, so it is off by default.</summary>
    public bool ProxyDirectForUefi { get; init; }

    public int ServerPort { get; init; } = DhcpConstants.ServerPort;

    public int ClientPort { get; init; } = DhcpConstants.ClientPort;

    public int BootServerPort { get; init; } = DhcpConstants.PxeBootServerPort;

    /// <summary>The directly attached subnet.</summary>
    public DhcpSubnet LocalSubnet => new(new Ip4(ServerAddress.Value & SubnetMask.Value), SubnetMask, Pools)
    {
        Router = Router,
        DnsServers = DnsServers,
        DomainName = DomainName,
    };
}
