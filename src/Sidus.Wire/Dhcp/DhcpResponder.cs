namespace Sidus.Wire.Dhcp;

/// <summary>Decides the reply to one decoded request (RFC 2131 section 4.3, PXE and proxyDHCP); no sockets here.
/// Every decision is logged: which MAC and node, which address and file, or why the request was ignored. A machine
/// that is no node is answered as the node source's policy says (in full mode always with an address; boot
/// instructions only when the policy boots it), and the lines about such machines name that policy and are
/// rate-limited (<see cref="UnknownLinesPerWindow"/>; the rest go to Debug). So are the lines about DECLINEs and
/// RELEASEs it refuses: they may come from anyone, node MAC or not.
/// Not thread-safe: callers serialise (the lease table is shared).</summary>
public sealed class DhcpResponder
{
    /// <summary>iPXE's encapsulated option 175.176: skip ProxyDHCP.</summary>
    private const byte IpxeNoPxeDhcp = 176;

    private const byte PxeDiscoveryControl = 6;
    private const byte PxeDiscoveryUseBootFile = 8;
    private const byte PxeBootItem = 71;
    private const byte PxeVendorEnd = 255;

    /// <summary>Lines about machines that are no node logged at Information per <see cref="UnknownLinesWindow"/>.</summary>
    public const int UnknownLinesPerWindow = 20;

    public static readonly TimeSpan UnknownLinesWindow = TimeSpan.FromSeconds(10);

    private readonly DhcpServerOptions _options;
    private readonly IDhcpNodeSource _nodes;
    private readonly DhcpLeaseTable _leases;
    private readonly ILogger _logger;
    private readonly DhcpSubnet _local;
    private readonly IPEndPoint _broadcast;
    private readonly LogBudget _unknownLines;
    private readonly LogBudget _refusedLines;

    public DhcpResponder(DhcpServerOptions options, IDhcpNodeSource nodes, DhcpLeaseTable leases, ILogger logger, TimeProvider? time = null)
    {
        _unknownLines = new LogBudget(UnknownLinesPerWindow, UnknownLinesWindow, time ?? TimeProvider.System);
        _refusedLines = new LogBudget(UnknownLinesPerWindow, UnknownLinesWindow, time ?? TimeProvider.System);
        _options = options;
        _nodes = nodes;
        _leases = leases;
        _logger = logger;
        _local = options.LocalSubnet;
        _broadcast = new IPEndPoint(IPAddress.Broadcast, options.ClientPort);
    }

    /// <summary>The reply for <paramref name="request"/>, or null when it is to be ignored (the reason is logged).
    /// <paramref name="bootServerPort"/> is true for requests that arrived on port 4011.</summary>
    public DhcpReply? Handle(DhcpPacket request, IPEndPoint source, bool bootServerPort)
    {
        if (request.Op != DhcpConstants.OpBootRequest)
            return Ignore(request, null, "it is not a BOOTREQUEST");
        if (request.HLen == 0)
            return Ignore(request, null, "it has no hardware address");
        var client = PxeClassifier.Describe(request, _options.PxeVendorPrefixes);
        var answer = _nodes.Find(client);
        if (answer.IgnoreReason is { } why)
            return Ignore(request, answer, why);
        if (bootServerPort)
            return BootServerAck(request, source, client, answer);
        return _options.Mode switch
        {
            DhcpMode.Full => Full(request, source, client, answer),
            DhcpMode.Proxy => ProxyOffer(request, client, answer),
            _ => Ignore(request, answer, "DHCP is off"),
        };
    }

    private DhcpReply? Full(DhcpPacket request, IPEndPoint source, DhcpClientInfo client, DhcpNodeAnswer answer)
    {
        DhcpSubnet? subnet = _local;
        if (!request.Giaddr.IsZero)
        {
            subnet = _options.RelaySubnets.FirstOrDefault(s => s.Contains(request.Giaddr))
                ?? (_local.Contains(request.Giaddr) ? _local : null);
            if (subnet is null)
                return Ignore(request, answer, $"no subnet is configured for relay {request.Giaddr}");
        }
        var mac = client.Mac;
        var serverId = request.Options.GetAddress(DhcpOptionCode.ServerIdentifier);
        switch (request.MessageType)
        {
            case DhcpMessageType.Discover:
            {
                if (KeptForNodes(mac, answer, subnet) is { } kept)
                    return Ignore(request, answer, kept);
                var requested = request.Options.GetAddress(DhcpOptionCode.RequestedIpAddress);
                var lease = _leases.Offer(mac, subnet, answer.FixedAddress, requested, a => IsReservedForOther(a, mac), answer.IsUnknown);
                if (lease is null)
                    return Ignore(request, answer, answer.FixedAddress is { } f ? $"its reserved address {f} is held by another client" : $"no free address in {subnet.Network}");
                var offer = BuildReply(request, DhcpMessageType.Offer, subnet, client, answer, lease.Address, withLease: true);
                if (answer.UnknownPolicy is { } policy)
                {
                    var level = UnknownLineLevel();
                    if (_logger.IsEnabled(level))
                        _logger.Log(level, "DHCP OFFER {Address} to {Mac}: {Policy}: {Boot}", lease.Address, mac, policy, BootText(answer, offer));
                }
                else if (_logger.IsEnabled(LogLevel.Information))
                {
                    _logger.LogInformation("DHCP OFFER {Address} to {Mac} (node {Node}) file '{File}'", lease.Address, mac, answer.NodeName, offer.FileName);
                }
                return new DhcpReply(offer, Destination(request, offer), NeedsCommit: false);
            }
            case DhcpMessageType.Request:
                return FullRequest(request, client, answer, subnet, serverId);
            case DhcpMessageType.Decline:
                return Decline(request, answer, mac, serverId);
            case DhcpMessageType.Release:
                return Release(request, source, answer, mac);
            case DhcpMessageType.Inform:
            {
                var ack = BuildReply(request, DhcpMessageType.Ack, subnet, client, answer, Ip4.Any, withLease: false);
                ack.Ciaddr = request.Ciaddr;
                var level = LevelFor(answer);
                if (_logger.IsEnabled(level))
                    _logger.Log(level, "DHCP INFORM from {Mac} at {Address} ({Who}): ACK with options", mac, request.Ciaddr, Who(answer));
                return new DhcpReply(ack, Destination(request, ack), NeedsCommit: false);
            }
            default:
                return Ignore(request, answer, "a server never receives this message type");
        }
    }

    private DhcpReply? FullRequest(DhcpPacket request, DhcpClientInfo client, DhcpNodeAnswer answer, DhcpSubnet subnet, Ip4? serverId)
    {
        var mac = client.Mac;
        var requested = request.Options.GetAddress(DhcpOptionCode.RequestedIpAddress);
        string state;
        Ip4 address;
        if (serverId is { } id)
        {
            if (id != _options.ServerAddress)
            {
                _leases.CancelOffer(mac);
                return Ignore(request, answer, $"the client chose server {id}");
            }
            if (requested is not { } chosen)
                return Ignore(request, answer, "a SELECTING REQUEST without a requested address");
            state = "SELECTING";
            address = chosen;
        }
        else if (requested is { } wanted)
        {
            state = "INIT-REBOOT";
            address = wanted;
        }
        else if (!request.Ciaddr.IsZero)
        {
            state = "RENEWING";
            address = request.Ciaddr;
        }
        else
        {
            return Ignore(request, answer, "a REQUEST with neither requested address nor ciaddr");
        }

        string? refusal = null;
        if (!subnet.Contains(address))
            refusal = $"{address} is not on subnet {subnet.Network}";
        else if (answer.FixedAddress is { } fixedAddress && fixedAddress != address)
            refusal = $"{mac} is reserved {fixedAddress}";
        else if (answer.FixedAddress is null && !subnet.InPool(address))
            refusal = $"{address} is outside our pools";
        else if (answer.FixedAddress is null && IsReservedForOther(address, mac))
            refusal = $"{address} is reserved for another machine";
        else if (!_leases.IsAvailableTo(address, mac))
            refusal = $"{address} is held by another client";
        else if (_leases.LiveLeaseElsewhere(mac, address) is { } held && _leases.FindByAddress(address)?.Mac != mac)
        {
            // A client with a live lease asks for another address: a real one asks for its own (it gets it again
            // after a DISCOVER, which also moves it when its network or fixed address changed); a forged one would
            // move a live node. The table would keep the old address for the node anyway, but each such move held
            // one more address for a whole lease: refused, so a forged REQUEST costs the pool nothing. Going back
            // to an address still kept for the client (it moved off it) is its renewal: allowed.
            refusal = $"{mac} holds {held.Address} until {held.Expires:u}; it may not move before";
        }
        else if (KeptForNodes(mac, answer, subnet) is { } kept)
            refusal = kept;

        if (refusal is null)
        {
            var lease = _leases.Bind(mac, address, _options.LeaseTime, client.HostName ?? answer.NodeName, answer.IsUnknown);
            if (lease is null)
                refusal = $"{address} could not be bound";
        }
        if (refusal is not null)
        {
            var level = LevelFor(answer);
            if (_logger.IsEnabled(level))
                _logger.Log(level, "DHCP NAK to {Mac} ({Who}, {State} for {Address}): {Reason}", mac, Who(answer), state, address, refusal);
            var nak = BuildNak(request);
            return new DhcpReply(nak, Destination(request, nak), NeedsCommit: false);
        }
        var ack = BuildReply(request, DhcpMessageType.Ack, subnet, client, answer, address, withLease: true);
        ack.Ciaddr = request.Ciaddr;
        if (answer.UnknownPolicy is { } policy)
        {
            var level = UnknownLineLevel();
            if (_logger.IsEnabled(level))
                _logger.Log(level, "DHCP ACK {Address} to {Mac} ({State}) for {Lease}: {Policy}: {Boot}", address, mac, state, _options.LeaseTime, policy, BootText(answer, ack));
        }
        else if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.LogInformation("DHCP ACK {Address} to {Mac} (node {Node}, {State}) for {Lease} file '{File}'",
                address, mac, answer.NodeName, state, _options.LeaseTime, ack.FileName);
        }
        return new DhcpReply(ack, Destination(request, ack), NeedsCommit: true);
    }

    /// <summary>Why a machine that is no node and holds no address may not take one now (the rest of the pool is
    /// kept for nodes), or null when it may.</summary>
    private string? KeptForNodes(string mac, DhcpNodeAnswer answer, DhcpSubnet subnet)
    {
        if (!answer.IsUnknown || _leases.HoldsAddress(mac))
            return null;
        var heldBack = _nodes.AddressesHeldBack(subnet);
        if (_leases.HasRoomForUnknown(subnet, heldBack))
            return null;
        return $"the rest of the pool of {subnet.Network} is kept for nodes ({heldBack} address(es) held back, {_leases.UnknownHeld(subnet)} held by machines that are no node, {_leases.Quarantined(subnet)} in quarantine)";
    }

    /// <summary>DECLINE (RFC 2131 4.3.3): the client found the address in use. Quarantined only when the client is
    /// the address's holder and within the per-client and per-pool limits; otherwise ignored, and the line about it
    /// budgeted (a loop of DECLINEs must not fill the log either).</summary>
    private DhcpReply? Decline(DhcpPacket request, DhcpNodeAnswer answer, string mac, Ip4? serverId)
    {
        if (serverId is { } id && id != _options.ServerAddress)
            return Refused(request, answer, "it is for another server");
        if (request.Options.GetAddress(DhcpOptionCode.RequestedIpAddress) is not { } address)
            return Refused(request, answer, "it names no address");
        var outcome = _leases.Decline(mac, address);
        switch (outcome)
        {
            case DhcpDeclineOutcome.Quarantined:
                _logger.LogWarning("DHCP DECLINE of {Address} by {Mac} ({Who}): address quarantined for {Quarantine}",
                    address, mac, Who(answer), _leases.DeclineQuarantine);
                return null;
            case DhcpDeclineOutcome.ClientLimit:
                return Refused(request, answer, $"{mac} already has {_leases.DeclinesPerClient} declined address(es) in quarantine; {address} stays its lease");
            case DhcpDeclineOutcome.PoolLimit:
                return Refused(request, answer, $"{_leases.DeclineSharePercent}% of the pool of {address} is in quarantine already; {address} stays its lease");
            case DhcpDeclineOutcome.TooLate:
                return Refused(request, answer, $"{address} was bound to {mac} more than {_leases.DeclineWindow.TotalSeconds:0} s ago or renewed since; it stays its lease");
            default:
                return Refused(request, answer, $"{address} is not offered or leased to {mac}");
        }
    }

    /// <summary>RELEASE: taken only from the lease's holder (chaddr and ciaddr match its live bound lease, and the
    /// datagram comes from ciaddr, or from the relay); the address then stays the client's until the lease would
    /// have ended, so even a forged RELEASE gives it to no other machine.</summary>
    private DhcpReply? Release(DhcpPacket request, IPEndPoint source, DhcpNodeAnswer answer, string mac)
    {
        // The source check only drops sloppy forgeries: a UDP source address is as easy to forge as chaddr. The real
        // defence is that a released address stays its client's until the lease would have ended.
        var from = Ip4.FromIPAddress(source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address);
        var expected = request.Giaddr.IsZero ? request.Ciaddr : request.Giaddr;
        if (request.Ciaddr.IsZero || from != expected)
            return Refused(request, answer, $"it names {request.Ciaddr} but came from {from}");
        if (!_leases.Release(mac, request.Ciaddr))
            return Refused(request, answer, $"{request.Ciaddr} is not leased to {mac}");
        var level = LevelFor(answer);
        if (_logger.IsEnabled(level))
            _logger.Log(level, "DHCP RELEASE of {Address} by {Mac} ({Who}): kept for it until its lease ends", request.Ciaddr, mac, Who(answer));
        return null;
    }

    /// <summary>Logs (within <see cref="_refusedLines"/>'s budget) why a DECLINE or RELEASE changed nothing.</summary>
    private DhcpReply? Refused(DhcpPacket request, DhcpNodeAnswer answer, string reason)
    {
        var level = BudgetLevel(_refusedLines, "refused DECLINE/RELEASE");
        if (_logger.IsEnabled(level))
            _logger.Log(level, "DHCP {Type} from {Mac} ({Who}) ignored: {Reason}", request.MessageType, request.ClientMac, Who(answer), reason);
        return null;
    }

    private DhcpReply? ProxyOffer(DhcpPacket request, DhcpClientInfo client, DhcpNodeAnswer answer)
    {
        if (!client.IsPxe)
            return Ignore(request, answer, "proxy mode answers PXE clients only");
        if (request.MessageType != DhcpMessageType.Discover)
            return Ignore(request, answer, "proxy mode answers DISCOVER on port 67 only; the site's server handles the rest");
        if (!answer.Boot)
            return Ignore(request, answer, "proxy mode answers only machines it boots");
        var type = DhcpMessageType.Offer;
        var reply = NewReply(request, type);
        reply.Options.SetAddress(DhcpOptionCode.ServerIdentifier, _options.ServerAddress);
        var file = AddBootInfo(request, reply, client, answer);
        if (file is null)
            return Ignore(request, answer, $"no boot file for architecture {client.Architecture}");
        var direct = client.Architecture is null or 0 || _options.ProxyDirectForUefi || client.IsIpxe;
        if (direct)
            reply.Options.Set(DhcpOptionCode.VendorSpecific, [PxeDiscoveryControl, 1, PxeDiscoveryUseBootFile, PxeVendorEnd]);
        var level = LevelFor(answer);
        if (_logger.IsEnabled(level))
            _logger.Log(level, "proxyDHCP OFFER to {Mac} ({Who}, arch {Arch}{Ipxe}) file '{File}'{Redirect}",
                client.Mac, Who(answer), client.Architecture, client.IsIpxe ? ", iPXE" : "", file, direct ? "" : ", boot server on 4011");
        return new DhcpReply(reply, Destination(request, reply), NeedsCommit: false);
    }

    private DhcpReply? BootServerAck(DhcpPacket request, IPEndPoint source, DhcpClientInfo client, DhcpNodeAnswer answer)
    {
        if (request.MessageType is not (DhcpMessageType.Request or DhcpMessageType.Inform))
            return Ignore(request, answer, "port 4011 takes REQUEST (or INFORM) only");
        if (!client.IsPxe)
            return Ignore(request, answer, "port 4011 answers PXE clients only");
        if (!answer.Boot)
            return Ignore(request, answer, "the boot server answers only machines it boots");
        var reply = NewReply(request, DhcpMessageType.Ack);
        reply.Ciaddr = request.Ciaddr;
        reply.Options.SetAddress(DhcpOptionCode.ServerIdentifier, _options.ServerAddress);
        var file = AddBootInfo(request, reply, client, answer);
        if (file is null)
            return Ignore(request, answer, $"no boot file for architecture {client.Architecture}");
        var vendor = new List<byte> { PxeDiscoveryControl, 1, PxeDiscoveryUseBootFile };
        if (FindSubOption(request, PxeBootItem) is { } item)
        {
            vendor.Add(PxeBootItem);
            vendor.Add((byte)item.Length);
            vendor.AddRange(item);
        }
        vendor.Add(PxeVendorEnd);
        reply.Options.Set(DhcpOptionCode.VendorSpecific, vendor.ToArray());
        var level = LevelFor(answer);
        if (_logger.IsEnabled(level))
            _logger.Log(level, "PXE boot server ACK to {Mac} at {Source} ({Who}, arch {Arch}) file '{File}'",
                client.Mac, source, Who(answer), client.Architecture, file);
        return new DhcpReply(reply, source, NeedsCommit: false);
    }

    private DhcpPacket BuildReply(DhcpPacket request, DhcpMessageType type, DhcpSubnet subnet, DhcpClientInfo client,
        DhcpNodeAnswer answer, Ip4 yiaddr, bool withLease)
    {
        var reply = NewReply(request, type);
        reply.Yiaddr = yiaddr;
        var o = reply.Options;
        o.SetAddress(DhcpOptionCode.ServerIdentifier, _options.ServerAddress);
        if (withLease)
        {
            var seconds = (uint)Math.Clamp(_options.LeaseTime.TotalSeconds, 1, uint.MaxValue - 1);
            o.SetUInt32(DhcpOptionCode.LeaseTime, seconds);
            o.SetUInt32(DhcpOptionCode.RenewalTime, seconds / 2);
            o.SetUInt32(DhcpOptionCode.RebindingTime, (uint)(seconds * 7UL / 8));
        }
        o.SetAddress(DhcpOptionCode.SubnetMask, subnet.Mask);
        o.SetAddress(DhcpOptionCode.BroadcastAddress, subnet.BroadcastAddress);
        if ((subnet.Router ?? _options.Router) is { } router)
            o.SetAddress(DhcpOptionCode.Router, router);
        var dns = subnet.DnsServers is { Count: > 0 } d ? d : _options.DnsServers;
        if (dns.Count > 0)
            o.SetAddresses(DhcpOptionCode.DomainNameServer, dns);
        if ((subnet.DomainName ?? _options.DomainName) is { Length: > 0 } domain)
            o.SetString(DhcpOptionCode.DomainName, domain);
        // A machine the policy does not boot gets an address and the network's options only: no next-server, no file.
        if (!answer.Boot)
            return reply;
        if (client.IsPxe || client.IsIpxe)
            AddBootInfo(request, reply, client, answer);
        // Full mode only: iPXE takes an offer carrying "PXEClient" as a sign of a ProxyDHCP server and may go asking
        // for one with growing timeouts; this answer already holds its script, so it is told not to
        // (ipxe.no-pxedhcp). A proxy offer must not say so: iPXE would then ignore the boot file it carries.
        if (client.IsIpxe)
            reply.Options.Set(DhcpOptionCode.IpxeEncapsulated, [IpxeNoPxeDhcp, 1, 1]);
        return reply;
    }

    /// <summary>siaddr, sname, file and the PXE options; returns the file or null when there is none.</summary>
    private string? AddBootInfo(DhcpPacket request, DhcpPacket reply, DhcpClientInfo client, DhcpNodeAnswer answer)
    {
        string? file;
        if (client.IsIpxe)
            file = answer.ScriptUrl ?? ExpandScriptUrl(client, answer);
        else if (client.Architecture is { } arch)
            file = answer.BootFile ?? _options.BootFiles.ForArchitecture(arch);
        else
            file = answer.BootFile;
        if (file is null || file.Length >= DhcpConstants.FileSize)
            return null;
        reply.Siaddr = _options.ServerAddress;
        reply.ServerName = _options.ServerAddress.ToString();
        reply.FileName = file;
        var vendorClass = PxeClassifier.IsHttpBoot(client) ? "HTTPClient" : "PXEClient";
        if (client.IsPxe)
            reply.Options.SetString(DhcpOptionCode.VendorClassIdentifier, vendorClass);
        if (request.Options.TryGet(DhcpOptionCode.ClientMachineIdentifier, out var guid))
            reply.Options.Set(DhcpOptionCode.ClientMachineIdentifier, guid);
        if (request.Options.TryGet(DhcpOptionCode.ParameterRequestList, out var wanted) && wanted.Contains((byte)DhcpOptionCode.BootFileName))
            reply.Options.SetString(DhcpOptionCode.BootFileName, file);
        return file;
    }

    private string ExpandScriptUrl(DhcpClientInfo client, DhcpNodeAnswer answer) => _options.ScriptUrlTemplate
        .Replace("{server}", _options.ServerAddress.ToString(), StringComparison.Ordinal)
        .Replace("{mac-hyphen}", client.Mac.Replace(':', '-'), StringComparison.Ordinal)
        .Replace("{mac}", client.Mac, StringComparison.Ordinal)
        .Replace("{node}", answer.NodeName ?? "", StringComparison.Ordinal);

    private DhcpPacket BuildNak(DhcpPacket request)
    {
        var nak = NewReply(request, DhcpMessageType.Nak);
        nak.Options.SetAddress(DhcpOptionCode.ServerIdentifier, _options.ServerAddress);
        // A NAK goes out broadcast (or through the relay with the broadcast bit set): the client may have no address.
        if (!request.Giaddr.IsZero)
            nak.Flags |= DhcpConstants.BroadcastFlag;
        return nak;
    }

    private static DhcpPacket NewReply(DhcpPacket request, DhcpMessageType type)
    {
        var reply = new DhcpPacket
        {
            Op = DhcpConstants.OpBootReply,
            HType = request.HType,
            HLen = request.HLen,
            Xid = request.Xid,
            Flags = request.Flags,
            Giaddr = request.Giaddr,
        };
        request.Chaddr.CopyTo(reply.Chaddr, 0);
        reply.Options.SetByte(DhcpOptionCode.MessageType, (byte)type);
        return reply;
    }

    private IPEndPoint Destination(DhcpPacket request, DhcpPacket reply)
    {
        if (!request.Giaddr.IsZero)
            return new IPEndPoint(request.Giaddr.ToIPAddress(), _options.ServerPort);
        if (reply.MessageType != DhcpMessageType.Nak && !request.Ciaddr.IsZero)
            return new IPEndPoint(request.Ciaddr.ToIPAddress(), _options.ClientPort);
        return _broadcast;
    }

    private bool IsReservedForOther(Ip4 address, string mac) =>
        _nodes.ReservedFor(address) is { } owner && !string.Equals(owner, mac, StringComparison.OrdinalIgnoreCase);

    private static byte[]? FindSubOption(DhcpPacket request, byte code)
    {
        if (!request.Options.TryGet(DhcpOptionCode.VendorSpecific, out var area))
            return null;
        var i = 0;
        while (i + 1 < area.Length)
        {
            var sub = area[i];
            if (sub == PxeVendorEnd)
                break;
            if (sub == 0)
            {
                i++;
                continue;
            }
            var length = area[i + 1];
            if (i + 2 + length > area.Length)
                break;
            if (sub == code)
                return area.Slice(i + 2, length).ToArray();
            i += 2 + length;
        }
        return null;
    }

    /// <summary>Logs why <paramref name="request"/> gets no reply and returns null. Lines about nodes always reach
    /// Information; those about other machines (and about requests too broken to say who sent them) are budgeted.</summary>
    private DhcpReply? Ignore(DhcpPacket request, DhcpNodeAnswer? answer, string reason)
    {
        var level = LevelFor(answer);
        if (!_logger.IsEnabled(level))
            return null;
        if (answer is null)
            _logger.Log(level, "DHCP {Type} from {Mac} ignored: {Reason}", request.MessageType, request.ClientMac, reason);
        else
            _logger.Log(level, "DHCP {Type} from {Mac} ({Who}) ignored: {Reason}", request.MessageType, request.ClientMac, Who(answer), reason);
        return null;
    }

    /// <summary>Whom a line is about: "node NAME", or the policy that decided for a machine that is no node.</summary>
    private static string Who(DhcpNodeAnswer answer) => answer.UnknownPolicy ?? $"node {answer.NodeName}";

    /// <summary>What a machine that is no node was told to boot: its file, or why it was told none.</summary>
    private static string BootText(DhcpNodeAnswer answer, DhcpPacket reply) => !answer.Boot
        ? "no boot"
        : reply.FileName is { Length: > 0 } file ? $"file '{file}'" : "no boot file (not a network-boot client)";

    /// <summary>Information for a line about a node; for any other machine (or a request too broken to say who sent
    /// it), whatever the budget allows.</summary>
    private LogLevel LevelFor(DhcpNodeAnswer? answer) => answer is { IsUnknown: false } ? LogLevel.Information : UnknownLineLevel();

    /// <summary>The level for the next line about a machine that is no node: Information within the budget (after
    /// saying how many lines went to Debug since the last one), else Debug.</summary>
    private LogLevel UnknownLineLevel() => BudgetLevel(_unknownLines, "about machines that are no node");

    /// <summary>Information while <paramref name="budget"/> allows (after saying how many lines of that kind went to
    /// Debug since the last one), else Debug.</summary>
    private LogLevel BudgetLevel(LogBudget budget, string kind)
    {
        if (!budget.Take(out var heldBack))
            return LogLevel.Debug;
        if (heldBack > 0 && _logger.IsEnabled(LogLevel.Information))
            _logger.LogInformation("DHCP: {Count} more line(s) {Kind} went to Debug (at most {Lines} every {Window} s at Information)",
                heldBack, kind, budget.Lines, budget.Window.TotalSeconds);
        return LogLevel.Information;
    }
}
