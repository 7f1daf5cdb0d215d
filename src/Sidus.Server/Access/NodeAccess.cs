using System.Collections.Concurrent;
using Sidus.Server.Http;
using Sidus.Store.Objects;

namespace Sidus.Server.Access;

/// <summary>What a request needs from a node credential.</summary>
/// <param name="What">What is asked for, for the refusal ("the manifest of 3f2a...").</param>
/// <param name="Version">The version it reads, or null when any of the credential's is fine (the caller checks).</param>
/// <param name="Node">The node it concerns (overrides, events), or null.</param>
/// <param name="Ticket">A boot ticket opens it (boot files, events).</param>
/// <param name="Session">A session opens it.</param>
/// <param name="SameAddress">Only from the address the ticket was issued to (iPXE's downloads come from the address that asked for the script).</param>
internal sealed record AccessNeed(string What, ObjectId? Version = null, string? Node = null, bool Ticket = false, bool Session = true, bool SameAddress = false);

/// <summary>The answer to one request: allowed or not, the HTTP status to refuse with, and why (for the answer and the log).</summary>
internal sealed record AccessDecision(bool Allowed, int Status, string Reason, NodeToken? Token = null, string? Subject = null)
{
    public static AccessDecision Refused(int status, string reason) => new(false, status, reason);
}

/// <summary>
/// Node credentials (docs/node-access.md): issues a boot's ticket with its script, exchanges it once for a session,
/// and decides every node request (<see cref="Check"/>, the one place). A credential is refused when its signature
/// is wrong, when the node was revoked after it was issued, when a later claim superseded it, when it names another
/// version or node, or when the asking address is, by the neighbour table, another machine than the node's.
/// </summary>
public sealed class NodeAccess
{
    /// <summary>How long a ticket may wait for its boot files and its claim (a big image's first export included).</summary>
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromHours(1);

    private readonly byte[] _key;
    private readonly NodeBootJournal _journal;
    private readonly InventoryView _inventory;
    private readonly Func<IPAddress, MacAddress?> _neighbour;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    /// <summary>
    /// A claim repeated from the same address this soon gets the same session: the agent retries when the answer to
    /// its claim was lost. Short, because the agent claims in its initramfs, long before any user of the node runs.
    /// </summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(30);

    /// <summary>At most one alarm a boot is logged and stored in this time.</summary>
    public static readonly TimeSpan AlarmInterval = TimeSpan.FromMinutes(1);

    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<ulong, (IPAddress? From, DateTimeOffset At, string Session)> _recentClaims = new();
    private readonly ConcurrentDictionary<ulong, DateTimeOffset> _alarmed = new();
    private readonly Func<MacAddress, IPAddress?> _leased;
    private readonly Func<bool> _allowUnverified;
    private readonly Func<string, ObjectId, bool> _keyOpens;

    internal NodeAccess(
        byte[] key, NodeBootJournal journal, InventoryView inventory, Func<IPAddress, MacAddress?> neighbour, TimeProvider time, ILogger logger,
        Func<MacAddress, IPAddress?>? leased = null, Func<bool>? allowUnverified = null, Func<string, ObjectId, bool>? keyOpens = null)
    {
        _keyOpens = keyOpens ?? ((_, _) => false);
        _key = key;
        _journal = journal;
        _inventory = inventory;
        _neighbour = neighbour;
        _time = time;
        _logger = logger;
        _leased = leased ?? (_ => null);
        _allowUnverified = allowUnverified ?? (() => false);
    }

    /// <summary>The server's: its key and journal in HOME/server, the kernel's neighbour table, its DHCP leases and
    /// [overrides] allow-unverified (read at each ticket, so a reload changes it).</summary>
    /// <param name="keyOpens">Whether an installed node's key opens a version: NODE, VERSION (the node's image's
    /// versions and the one its disk holds).</param>
    public static NodeAccess Open(
        string home, InventoryView inventory, ILogger logger, Func<MacAddress, IPAddress?> leased, Func<bool> allowUnverified, Func<string, ObjectId, bool> keyOpens) => new(
        NodeAuthKey.LoadOrCreate(home),
        new NodeBootJournal(Path.Combine(home, "server", "node-boots"), TicketLifetime),
        inventory, a => NeighbourTable.Find(a), TimeProvider.System, logger, leased, allowUnverified, keyOpens);

    /// <summary>
    /// An installed node's key, issued to the install's SESSION (an installing boot of the node): it belongs to that
    /// boot, so the node's next network boot that claims a session (a reinstall) supersedes it, as
    /// `sidus node revoke` ends it. It carries no address: an installed node takes whatever lease DHCP gives it, and
    /// every use is still bound to its MACs by the neighbour table.
    /// </summary>
    internal string IssueKey(NodeToken session) =>
        new NodeToken(NodeTokenKind.Key, session.Mac, ObjectId.Zero, session.Boot, _time.GetUtcNow(), null).Sign(_key);

    /// <summary>
    /// A ticket for MAC's boot of VERSION, asked from CLIENT; or null and why not. The asking address must be tied to
    /// the machine (MACS, FIXEDIP) the way its override layer is (<see cref="OverrideAccess"/>: its fixed address, our
    /// lease for one of its MACs, or the neighbour table), and the neighbour table must not show another machine
    /// there (a machine that took the node's lease or address). Loopback, off-link and IPv6 clients are tied only by
    /// a fixed address or [overrides] allow-unverified.
    /// </summary>
    public string? IssueTicket(MacAddress mac, IReadOnlyCollection<MacAddress> macs, IPAddress? fixedIp, IPAddress? client, string version, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(macs);
        refusal = Binding(macs, client, null, sameAddress: false);
        if (refusal is null)
        {
            var who = _inventory.Current.FindByMac(mac) is { } node ? $"node {node.Name}" : $"machine {mac}";
            var tie = OverrideAccess.Check(who, macs, fixedIp, client, _leased, _neighbour, _allowUnverified());
            refusal = tie.Allowed ? null : tie.Reason;
        }

        if (refusal is not null)
        {
            return null;
        }

        return new NodeToken(NodeTokenKind.Ticket, mac, ObjectId.Parse(version), BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)), _time.GetUtcNow(), client).Sign(_key);
    }

    /// <summary>
    /// Exchanges a ticket for a session: once. A second claim of the same ticket is refused (409), logged and kept
    /// as the node's alarm (`sidus node status`): either the node or someone who read its ticket claimed it first.
    /// </summary>
    internal async Task<(string? Session, AccessDecision Decision)> ClaimAsync(string? ticket, IPAddress? client, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (ticket is not null && NodeToken.Verify(_key, ticket) is { Kind: NodeTokenKind.Ticket } claimed && _journal.IsClaimed(claimed.Boot))
        {
            // The node asking again because the answer to its claim was lost: the same session, no alarm. The same
            // address is not enough: the neighbour table must not show another machine there.
            IReadOnlyCollection<MacAddress> macs = _inventory.Current.FindByMac(claimed.Mac)?.Macs ?? [claimed.Mac];
            if (_recentClaims.TryGetValue(claimed.Boot, out var recent) && now - recent.At < RepeatWindow &&
                Binding(macs, client, recent.From, sameAddress: true) is null)
            {
                return (recent.Session, new AccessDecision(true, StatusCodes.Status200OK, $"boot {claimed.Boot:x16} claimed again from {Show(client)} within {RepeatWindow.TotalSeconds:0} s: the same session"));
            }

            return (null, await AlarmAsync(claimed, client, now, ct));
        }

        var decision = Check(ticket, client, new AccessNeed("a session", Ticket: true, Session: false));
        if (!decision.Allowed)
        {
            return (null, decision);
        }

        var token = decision.Token!;
        try
        {
            if (!_journal.TryClaim(token.Boot, decision.Subject!, token.Issued, now))
            {
                return (null, await AlarmAsync(token, client, now, ct));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not recorded, so not claimed: the agent's retry claims it then.
            return (null, AccessDecision.Refused(StatusCodes.Status503ServiceUnavailable, $"the claim could not be recorded ({e.Message}): try again"));
        }

        var session = new NodeToken(NodeTokenKind.Session, token.Mac, token.Version, token.Boot, now, client).Sign(_key);
        Remember(_recentClaims, token.Boot, (From: client, At: now, Session: session), now, c => c.At, RepeatWindow);
        return (session, decision with { Reason = $"boot {token.Boot:x16} of {decision.Subject} claimed from {Show(client)}" });
    }

    private async Task<AccessDecision> AlarmAsync(NodeToken token, IPAddress? client, DateTimeOffset now, CancellationToken ct)
    {
        var seen = client is null ? null : _neighbour(client);
        var alarm = $"the boot ticket of {token.Issued:u} was claimed a second time, from {Show(client)}" +
                    (seen is { } m ? $" ({m})" : string.Empty) + ": someone else may have read it; refused";

        // One alarm a boot per AlarmInterval is logged and stored: a replay loop must not bury the others or fill the log.
        if (_alarmed.TryGetValue(token.Boot, out var last) && now - last < AlarmInterval)
        {
            return AccessDecision.Refused(StatusCodes.Status409Conflict, alarm);
        }

        Remember(_alarmed, token.Boot, now, now, at => at, AlarmInterval);
        var subject = SubjectOf(_inventory.Current, token.Mac);
        ServerLog.CredentialAlarm(_logger, subject, alarm);
        if (_inventory.Current.FindByMac(token.Mac) is { } node)
        {
            await _inventory.Store.RecordAccessAlarmAsync(node.Name, alarm, now, ct);
        }

        return AccessDecision.Refused(StatusCodes.Status409Conflict, alarm);
    }

    /// <summary>
    /// Whether CREDENTIAL (a ticket or session as the request carried it, or null) opens what NEED says for a
    /// request from CLIENT. Every node request goes through here; an admin's token is checked before (the HTTP side).
    /// </summary>
    internal AccessDecision Check(string? credential, IPAddress? client, AccessNeed need)
    {
        if (credential is null)
        {
            return AccessDecision.Refused(StatusCodes.Status401Unauthorized, $"{need.What}: only with a node credential (the boot's ticket or the agent's session)");
        }

        if (NodeToken.Verify(_key, credential) is not { } token)
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, "the credential was not issued by this server (or was altered)");
        }

        if ((token.Kind == NodeTokenKind.Ticket && !need.Ticket) || (token.Kind is NodeTokenKind.Session or NodeTokenKind.Key && !need.Session))
        {
            var what = token.Kind switch { NodeTokenKind.Ticket => "a boot ticket", NodeTokenKind.Session => "a boot session", _ => "a node key" };
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"{what} does not open {need.What}");
        }

        var snapshot = _inventory.Current;
        var node = snapshot.FindByMac(token.Mac);
        var subject = SubjectOf(snapshot, token.Mac);
        var now = _time.GetUtcNow();
        if (node is not null && snapshot.RevokedAt(node.Name) is { } revoked && token.Issued <= revoked)
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the credentials of node {subject} were revoked at {revoked:u}");
        }

        if (token.Kind == NodeTokenKind.Ticket)
        {
            if (now - token.Issued > TicketLifetime)
            {
                return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the boot ticket of {subject} expired ({TicketLifetime.TotalMinutes:0} minutes after {token.Issued:u})");
            }

            if (_journal.IsClaimed(token.Boot))
            {
                return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the boot ticket of {subject} was claimed already: its session is needed now");
            }
        }

        if (_journal.Current(subject) is { } current && current.Boot != token.Boot && token.Issued <= current.At)
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the credential of {subject} was superseded by its boot claimed at {current.At:u}");
        }

        if (need.Version is { } version && token.Kind == NodeTokenKind.Key)
        {
            if (!_keyOpens(subject, version))
            {
                return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the key of {subject} does not open version {version.Short}: it is not a version of the node's image");
            }
        }
        else if (need.Version is { } version2 && token.Version != version2)
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the credential of {subject} is for version {token.Version.Short}, not {version2.Short}");
        }

        if (need.Node is { } wanted && !string.Equals(wanted, subject, StringComparison.Ordinal))
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, $"the credential is {subject}'s, not {wanted}'s");
        }

        IReadOnlyCollection<MacAddress> macs = node is null ? [token.Mac] : node.Macs;
        if (Binding(macs, client, token.Address, need.SameAddress) is { } wrongPlace)
        {
            return AccessDecision.Refused(StatusCodes.Status403Forbidden, wrongPlace);
        }

        return new AccessDecision(true, StatusCodes.Status200OK, $"{token.Kind.ToString().ToLowerInvariant()} of {subject} from {Show(client)}", token, subject);
    }

    /// <summary>
    /// Null when CLIENT may be the node of MACS: the neighbour table (on-link clients) shows one of MACS at the
    /// address, or (off-link, or not in the table) the address is the one the credential was issued to. With
    /// SAMEADDRESS the address must be that one in any case.
    /// </summary>
    private string? Binding(IReadOnlyCollection<MacAddress> macs, IPAddress? client, IPAddress? issuedTo, bool sameAddress)
    {
        if (client is null)
        {
            return "the asking address is unknown";
        }

        if (_neighbour(client) is { } seen && !macs.Contains(seen))
        {
            return $"{client} is {seen} in the neighbour table, not one of the node's MACs ({string.Join(", ", macs)})";
        }

        if (issuedTo is not null && !issuedTo.Equals(client) && (sameAddress || _neighbour(client) is null))
        {
            return $"the credential was issued to {issuedTo}, not {client}";
        }

        return null;
    }

    /// <summary>Sets MAP[KEY]; entries older than KEEP go first when the map holds <see cref="MaxRemembered"/>.</summary>
    private static void Remember<T>(ConcurrentDictionary<ulong, T> map, ulong key, T value, DateTimeOffset now, Func<T, DateTimeOffset> at, TimeSpan keep)
    {
        if (map.Count >= MaxRemembered)
        {
            foreach (var old in map.Where(e => now - at(e.Value) >= keep).Select(e => e.Key).ToList())
            {
                map.TryRemove(old, out _);
            }
        }

        if (map.Count < MaxRemembered)
        {
            map[key] = value;
        }
    }

    /// <summary>Whose credentials a MAC's are: its node's, or (a machine booted by a network policy) the machine's own.</summary>
    internal static string SubjectOf(InventorySnapshot snapshot, MacAddress mac) =>
        snapshot.FindByMac(mac)?.Name ?? "machine-" + mac.ToString().Replace(':', '-');

    private static string Show(IPAddress? client) => client?.ToString() ?? "an unknown address";
}
