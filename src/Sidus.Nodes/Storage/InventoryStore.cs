using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidus.Nodes.Storage;

/// <summary>
/// The inventory database: SQLite file by default, PostgreSQL when given a connection string. Reads are
/// consistent snapshots; every change goes through <see cref="EditAsync{T}"/> (one transaction, writers serialised,
/// the change counter bumped so servers notice and reload).
/// </summary>
public sealed class InventoryStore : IAsyncDisposable
{
    /// <summary>Environment variable that can hold the database location (path or PostgreSQL connection string).</summary>
    public const string DatabaseVariable = "SIDUS_DB";

    /// <summary>File name of the SQLite inventory inside the data directory.</summary>
    public const string DefaultFileName = "inventory.db";

    private readonly SqlDialect _dialect;
    private readonly ILogger _log;

    private InventoryStore(SqlDialect dialect, ILogger log)
    {
        _dialect = dialect;
        _log = log;
    }

    /// <summary>
    /// The image store's answer to "does this image setting name a version?" (null: it does; else why not), given by
    /// whoever opens the inventory beside a store: every edit then refuses an image that does not exist
    /// (<see cref="ImageReferenceRule"/>). Null: not checked (an inventory without a store).
    /// </summary>
    public Func<string, string?>? Images { get; set; }

    /// <summary>"sqlite" or "postgresql".</summary>
    public string Provider => _dialect.Provider;

    /// <summary>Where the data is (file path, or postgresql://host:port/db).</summary>
    public string Location => _dialect.Describe;

    /// <summary>True when <paramref name="location"/> reads as a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsPostgres(string location) =>
        location.Contains('=', StringComparison.Ordinal) && location.Contains(';', StringComparison.Ordinal)
        || location.StartsWith("Host=", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Opens (creating and migrating as needed) the inventory at <paramref name="location"/>: a SQLite file path,
    /// or a PostgreSQL connection string like "Host=db;Database=sidus;Username=sidus".
    /// </summary>
    public static async Task<InventoryStore> OpenAsync(string location, ILogger? logger = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        SqlDialect dialect = IsPostgres(location) ? new PostgresDialect(location) : new SqliteDialect(location);
        var log = logger ?? NullLogger.Instance;
        try
        {
            await dialect.InitializeAsync(ct);
            var schema = await Migrations.RunAsync(dialect, ct);
            log.LogDebug("Inventory {Location} ({Provider}) at schema {Schema}", dialect.Describe, dialect.Provider, schema);
            return new InventoryStore(dialect, log);
        }
        catch
        {
            await dialect.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The change counter: it grows with every committed edit of nodes, groups, defaults or networks (not with boot
    /// events or discoveries). One indexed read: cheap enough to poll every second.
    /// </summary>
    public async Task<long> GetVersionAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        return await Rows.VersionAsync(c, null, ct);
    }

    public async Task<long> GetSchemaVersionAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        return await Migrations.SchemaVersionAsync(c, ct);
    }

    /// <summary>The whole inventory, read in one transaction.</summary>
    public async Task<InventorySnapshot> LoadAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginReadAsync(c, ct);
        var snapshot = await Rows.SnapshotAsync(c, tx, ct);
        await tx.CommitAsync(ct);
        return snapshot;
    }

    public async Task<Node?> GetNodeAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginReadAsync(c, ct);
        return (await Rows.NodesAsync(c, tx, name.ToLowerInvariant(), ct)).SingleOrDefault();
    }

    public async Task<Node?> FindNodeByMacAsync(MacAddress mac, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginReadAsync(c, ct);
        var name = (string?)await Sql.ScalarAsync(c, tx, ct, "SELECT node FROM node_macs WHERE mac = @m", ("@m", mac.ToString()));
        return name is null ? null : (await Rows.NodesAsync(c, tx, name, ct)).SingleOrDefault();
    }

    /// <summary>
    /// Why a node's fixed address may not be used beyond what the inventory knows (the CLI sets it to refuse an
    /// address inside a DHCP pool of sidus.toml), or null when it may.
    /// </summary>
    public Func<IPAddress, string?>? FixedAddressRule { get; set; }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits what it wrote (nothing is committed if it
    /// throws or wrote nothing). Writers queue behind each other; what the work reads holds until it commits.
    /// </summary>
    public async Task<T> EditAsync<T>(Func<InventoryEdit, Task<T>> work, CancellationToken ct = default)
    {
        try
        {
            return await EditOnceAsync(work, ct);
        }
        catch (DbException e) when (_dialect.IsBusy(e))
        {
            throw new InventoryException(
                InventoryErrorKind.Conflict, $"the inventory at {Location} stayed locked by another edit for too long: try again", e);
        }
    }

    private async Task<T> EditOnceAsync<T>(Func<InventoryEdit, Task<T>> work, CancellationToken ct)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginWriteAsync(c, ct);

        // First statement of every edit: takes the write lock (row lock on PostgreSQL, the database lock on SQLite)
        // before anything is read, so edits are serialised and none is computed from a stale read.
        await Sql.ExecuteAsync(c, tx, ct, "UPDATE meta SET value = value + 1 WHERE key = @k", ("@k", Migrations.VersionCounter));
        var edit = new InventoryEdit(c, tx, _dialect, Images, ct) { FixedAddressRule = FixedAddressRule };
        var result = await work(edit);
        if (edit.Changed)
        {
            await tx.CommitAsync(ct);
            _log.LogDebug("Inventory edit committed");
        }
        else
        {
            await tx.RollbackAsync(ct);
        }

        return result;
    }

    public Task EditAsync(Func<InventoryEdit, Task> work, CancellationToken ct = default) =>
        EditAsync<bool>(async e =>
        {
            await work(e);
            return true;
        }, ct);

    /// <summary>
    /// Records a machine that asked to boot but is in no node, within <paramref name="limits"/> (default
    /// <see cref="DiscoveryLimits.Default"/>): a machine already listed is updated (last seen, times seen), a new one
    /// past a limit is not stored. Nothing is stored either when the MAC belongs to a node by now.
    /// </summary>
    public async Task<DiscoveryOutcome> RegisterDiscoveredAsync(
        MacAddress mac, string? architecture, DateTimeOffset seenAt, string? network = null, string? group = null,
        DiscoveryLimits? limits = null, CancellationToken ct = default)
    {
        limits ??= DiscoveryLimits.Default;
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginWriteAsync(c, ct);
        if (await Sql.ScalarAsync(c, tx, ct, "SELECT node FROM node_macs WHERE mac = @m", ("@m", mac.ToString())) is not null)
        {
            return DiscoveryOutcome.IsNode;
        }

        if (await Sql.ScalarAsync(c, tx, ct, "SELECT mac FROM discovered WHERE mac = @m", ("@m", mac.ToString())) is null)
        {
            var total = Convert.ToInt64(await Sql.ScalarAsync(c, tx, ct, "SELECT COUNT(*) FROM discovered"), CultureInfo.InvariantCulture);
            if (total >= limits.Total)
            {
                return DiscoveryOutcome.TotalLimit;
            }

            var onNetwork = Convert.ToInt64(
                await Sql.ScalarAsync(c, tx, ct, "SELECT COUNT(*) FROM discovered WHERE network = @n", ("@n", network)), CultureInfo.InvariantCulture);
            if (network is not null && onNetwork >= limits.PerNetwork)
            {
                return DiscoveryOutcome.NetworkLimit;
            }
        }

        var t = Sql.ToMilliseconds(seenAt);
        await Sql.ExecuteAsync(
            c, tx, ct,
            """
            INSERT INTO discovered (mac, arch, network, grp, first_seen, last_seen, times_seen) VALUES (@m, @a, @n, @g, @t, @t, 1)
            ON CONFLICT (mac) DO UPDATE SET arch = COALESCE(excluded.arch, discovered.arch),
                network = COALESCE(excluded.network, discovered.network), grp = COALESCE(excluded.grp, discovered.grp),
                last_seen = excluded.last_seen, times_seen = discovered.times_seen + 1
            """,
            ("@m", mac.ToString()), ("@a", architecture), ("@n", network), ("@g", group), ("@t", t));
        await tx.CommitAsync(ct);
        _log.LogInformation("Discovered machine {Mac} (arch {Arch}) on network {Network}", mac, architecture, network);
        return DiscoveryOutcome.Registered;
    }

    public async Task<IReadOnlyList<DiscoveredMachine>> ListDiscoveredAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        var list = new List<DiscoveredMachine>();
        await using var cmd = Sql.Command(c, null, "SELECT mac, arch, network, grp, first_seen, last_seen, times_seen FROM discovered ORDER BY first_seen, mac");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new DiscoveredMachine(
                MacAddress.Parse(r.GetString(0)), r.NullableString(1), r.NullableString(2), r.NullableString(3),
                Sql.FromMilliseconds(r.GetInt64(4)), Sql.FromMilliseconds(r.GetInt64(5)), r.GetInt64(6)));
        }

        return list;
    }

    /// <summary>Adopts a discovered machine as node <paramref name="name"/> (one transaction).</summary>
    public Task<Node> AdoptAsync(MacAddress mac, string name, IReadOnlyList<string>? groups = null, CancellationToken ct = default) =>
        EditAsync(e => e.AdoptAsync(mac, name, groups), ct);

    /// <summary>
    /// Stores one boot stage report of a node, the one way events enter the inventory: its text is cleaned of control
    /// characters (<see cref="EventText"/>), and the node's oldest events beyond <see cref="BootEventLimits.PerMachine"/>
    /// go in the same transaction. Returns false, storing nothing, when the MAC belongs to no node: a machine that is no
    /// node cannot fill the inventory with reports.
    /// </summary>
    public async Task<bool> RecordBootEventAsync(BootEvent e, BootEventLimits? limits = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(e);
        limits ??= BootEventLimits.Default;
        var detail = EventText.Clean(e.Detail is { Length: > BootStages.MaxDetailLength } d ? d[..BootStages.MaxDetailLength] : e.Detail);
        var image = EventText.Clean(e.Image is { Length: > BootStages.MaxDetailLength } i ? i[..BootStages.MaxDetailLength] : e.Image);
        var mac = e.Mac.ToString();
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginWriteAsync(c, ct);
        var stored = await Sql.ExecuteAsync(
            c, tx, ct,
            "INSERT INTO boot_events (mac, node, stage, at, detail, image, up) SELECT @m, m.node, @s, @t, @d, @i, @u FROM node_macs m WHERE m.mac = @m",
            ("@m", mac), ("@s", e.Stage.ToText()), ("@t", Sql.ToMilliseconds(e.At)), ("@d", detail),
            ("@i", image), ("@u", EventText.Clean(e.Up)?.ToJson()));
        if (stored == 0)
        {
            await tx.RollbackAsync(ct);
            return false;
        }

        await Sql.ExecuteAsync(
            c, tx, ct,
            "DELETE FROM boot_events WHERE mac = @m AND id <= (SELECT id FROM boot_events WHERE mac = @m ORDER BY id DESC LIMIT 1 OFFSET @keep)",
            ("@m", mac), ("@keep", (long)limits.PerMachine));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Deletes boot events older than <see cref="BootEventLimits.MaxAge"/> and the oldest beyond
    /// <see cref="BootEventLimits.Total"/>; returns how many went.
    /// </summary>
    public async Task<int> TrimBootEventsAsync(BootEventLimits limits, DateTimeOffset now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        await using var c = await _dialect.OpenAsync(ct);
        return await Sql.ExecuteAsync(
            c, null, ct,
            "DELETE FROM boot_events WHERE at < @t OR id <= (SELECT id FROM boot_events ORDER BY id DESC LIMIT 1 OFFSET @keep)",
            ("@t", Sql.ToMilliseconds(now - limits.MaxAge)), ("@keep", (long)limits.Total));
    }

    /// <summary>How many boot events are stored.</summary>
    public async Task<long> CountBootEventsAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        return Convert.ToInt64(await Sql.ScalarAsync(c, null, ct, "SELECT COUNT(*) FROM boot_events") ?? 0L, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Notes that admin token <paramref name="name"/> was used. Not an edit: it does not move the change counter
    /// (servers would reload their inventory on every API call otherwise).
    /// </summary>
    public async Task TouchAdminTokenAsync(string name, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await Sql.ExecuteAsync(c, null, ct, "UPDATE admin_tokens SET last_used = @t WHERE name = @n", ("@t", Sql.ToMilliseconds(at)), ("@n", name));
    }

    /// <summary>The admin tokens as stored now, with when each was last used.</summary>
    public async Task<IReadOnlyList<Access.AdminToken>> ListAdminTokensAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        return await Rows.AdminTokensAsync(c, null, ct);
    }

    /// <summary>
    /// The newest <paramref name="limit"/> boot events of node <paramref name="node"/> (of every MAC it owns now, and
    /// those stored under its name), newest first: what the web console shows as a node's recent events.
    /// </summary>
    public async Task<IReadOnlyList<BootEvent>> GetRecentEventsAsync(string node, int limit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var c = await _dialect.OpenAsync(ct);
        var events = new List<BootEvent>();
        await using var cmd = Sql.Command(
            c, null,
            """
            SELECT e.mac, e.stage, e.at, e.detail, e.image FROM boot_events e LEFT JOIN node_macs m ON m.mac = e.mac
            WHERE COALESCE(m.node, e.node) = @n ORDER BY e.at DESC, e.id DESC LIMIT @l
            """,
            ("@n", node), ("@l", (long)limit));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            events.Add(new BootEvent(MacAddress.Parse(r.GetString(0)), BootStages.Parse(r.GetString(1)), Sql.FromMilliseconds(r.GetInt64(2)), r.NullableString(3), node)
            {
                Image = r.NullableString(4),
            });
        }

        return events;
    }

    /// <summary>
    /// The latest boot of every machine that reported one: its events since its last DHCP stage (the start of a
    /// boot), with the time each stage took from that start. Nodes are named by their current MAC ownership.
    /// </summary>
    public async Task<IReadOnlyList<NodeBootStatus>> GetBootStatusAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginReadAsync(c, ct);
        var events = new List<(string Mac, string? Node, BootStage Stage, long At, string? Detail, string? Image, UpReport? Up)>();
        await using (var cmd = Sql.Command(
            c, tx,
            """
            SELECT e.mac, COALESCE(m.node, e.node), e.stage, e.at, e.detail, e.image, e.up FROM boot_events e
            LEFT JOIN node_macs m ON m.mac = e.mac
            WHERE e.at >= COALESCE((SELECT MAX(d.at) FROM boot_events d WHERE d.mac = e.mac AND d.stage = 'dhcp'), 0)
            ORDER BY e.mac, e.at, e.id
            """))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                events.Add((r.GetString(0), r.NullableString(1), BootStages.Parse(r.GetString(2)), r.GetInt64(3), r.NullableString(4),
                    r.NullableString(5), ReadUp(r.NullableString(6))));
            }
        }

        await tx.CommitAsync(ct);
        var result = new List<NodeBootStatus>();
        foreach (var boot in events.GroupBy(e => e.Mac))
        {
            var start = boot.First().At;
            var stages = boot.Select(e => new StageTiming(
                e.Stage, Sql.FromMilliseconds(e.At), TimeSpan.FromMilliseconds(e.At - start), e.Detail) { Image = e.Image, Up = e.Up }).ToList();
            result.Add(new NodeBootStatus(boot.Last().Node, MacAddress.Parse(boot.Key), LatestOf(stages), stages));
        }

        return result.OrderBy(s => s.Node ?? "~" + s.Mac, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Removes machines from the discovered list (all of them when <paramref name="macs"/> is null), making room
    /// under the discovery limits; returns how many were listed.
    /// </summary>
    public async Task<int> ForgetDiscoveredAsync(IReadOnlyList<MacAddress>? macs, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        if (macs is null)
        {
            return await Sql.ExecuteAsync(c, null, ct, "DELETE FROM discovered");
        }

        var removed = 0;
        foreach (var mac in macs)
        {
            removed += await Sql.ExecuteAsync(c, null, ct, "DELETE FROM discovered WHERE mac = @m", ("@m", mac.ToString()));
        }

        return removed;
    }

    /// <summary>
    /// Revokes every credential of node NAME issued before AT (`sidus node revoke`). An edit: the change counter moves,
    /// so a running server reloads the inventory and refuses them.
    /// </summary>
    public Task RevokeCredentialsAsync(string name, DateTimeOffset at, CancellationToken ct = default) =>
        EditAsync(e => e.RevokeCredentialsAsync(name, at), ct);

    /// <summary>Records what node NAME's disk holds (the install's or an update's report). An edit: the server's next
    /// scripts for the node boot its disk.</summary>
    public Task RecordInstalledAsync(string name, string version, string imageRef, DateTimeOffset at, bool updated, CancellationToken ct = default) =>
        EditAsync(e => e.RecordInstalledAsync(name, version, imageRef, at, updated), ct);

    /// <summary>`sidus node reinstall`: forgets the install, so the node's next network boot installs it again.</summary>
    public Task<bool> ForgetInstalledAsync(string name, CancellationToken ct = default) =>
        EditAsync(e => e.ForgetInstalledAsync(name), ct);

    /// <summary>
    /// Asks the running node NAME to fetch and apply its override layer again (`sidus node apply-overrides`). An
    /// edit: the change counter moves, so the server reloads and answers the node's waiting agent.
    /// </summary>
    public Task RequestOverridesAsync(string name, DateTimeOffset at, CancellationToken ct = default) =>
        EditAsync(e => e.RequestOverridesAsync(name, at), ct);

    /// <summary>
    /// Gives nodes jobs (`sidus node update`, `sidus node drift`): NAME → the job's text. An edit: the server reloads
    /// and answers the nodes' waiting agents.
    /// </summary>
    public Task RequestJobsAsync(IReadOnlyDictionary<string, string> jobs, DateTimeOffset at, CancellationToken ct = default) =>
        EditAsync(async e =>
        {
            foreach (var (name, job) in jobs)
            {
                await e.RequestJobAsync(name, job, at);
            }
        }, ct);

    /// <summary>Node NAME's job text and when it was asked, or null.</summary>
    public async Task<(string Job, DateTimeOffset RequestedAt)?> GetJobAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var cmd = Sql.Command(c, null, "SELECT job, requested_at FROM node_jobs WHERE node = @n", ("@n", name));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (r.GetString(0), Sql.FromMilliseconds(r.GetInt64(1))) : null;
    }

    /// <summary>The agent's answer to node NAME's job of REQUEST (ignored when a newer job replaced it).</summary>
    public async Task RecordJobAnswerAsync(string name, DateTimeOffset request, DateTimeOffset at, bool succeeded, string result, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await Sql.ExecuteAsync(
            c, null, ct,
            "UPDATE node_jobs SET answered_at = @t, succeeded = @s, result = @r WHERE node = @n AND requested_at = @q",
            ("@n", name), ("@t", Sql.ToMilliseconds(at)), ("@s", succeeded ? 1L : 0L), ("@r", result), ("@q", Sql.ToMilliseconds(request)));
    }

    /// <summary>Node NAME's latest job and the answer to it: null answer fields while it runs.</summary>
    public async Task<NodeJobRecord?> GetJobAnswerAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var cmd = Sql.Command(c, null, "SELECT requested_at, answered_at, succeeded, result FROM node_jobs WHERE node = @n", ("@n", name));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }

        return new NodeJobRecord(
            Sql.FromMilliseconds(r.GetInt64(0)), r.IsDBNull(1) ? null : Sql.FromMilliseconds(r.GetInt64(1)), r.IsDBNull(2) ? null : r.GetInt64(2) == 1,
            r.IsDBNull(3) ? null : r.GetString(3));
    }

    /// <summary>The node agent's answer to the request of <paramref name="request"/>: when, and its result line.</summary>
    public async Task RecordOverridesAppliedAsync(string name, DateTimeOffset request, DateTimeOffset at, string result, CancellationToken ct = default)
    {
        var text = result.Length > BootStages.MaxDetailLength ? result[..BootStages.MaxDetailLength] : result;
        await using var c = await _dialect.OpenAsync(ct);
        await Sql.ExecuteAsync(
            c, null, ct,
            """
            UPDATE node_requests SET overrides_applied_at = @t, overrides_answered_request = @q, overrides_result = @r
            WHERE node = @n AND overrides_requested_at = @q
            """,
            ("@n", name), ("@t", Sql.ToMilliseconds(at)), ("@q", Sql.ToMilliseconds(request)), ("@r", text));
    }

    /// <summary>Node NAME's latest overrides request and the answer to it, if any.</summary>
    public async Task<OverridesRequestRecord?> GetOverridesRequestAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var cmd = Sql.Command(
            c, null, "SELECT overrides_requested_at, overrides_applied_at, overrides_answered_request, overrides_result FROM node_requests WHERE node = @n",
            ("@n", name));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct) || r.IsDBNull(0))
        {
            return null;
        }

        var requested = Sql.FromMilliseconds(r.GetInt64(0));
        var answered = !r.IsDBNull(2) && r.GetInt64(2) == r.GetInt64(0);
        return new OverridesRequestRecord(
            requested, answered && !r.IsDBNull(1) ? Sql.FromMilliseconds(r.GetInt64(1)) : null, answered ? r.NullableString(3) : null);
    }

    /// <summary>Records an alarm about node NAME's credentials (a ticket claimed twice): the latest is kept, with a count.</summary>
    public async Task RecordAccessAlarmAsync(string name, string alarm, DateTimeOffset at, CancellationToken ct = default)
    {
        var text = alarm.Length > BootStages.MaxDetailLength ? alarm[..BootStages.MaxDetailLength] : alarm;
        await using var c = await _dialect.OpenAsync(ct);
        await Sql.ExecuteAsync(
            c, null, ct,
            """
            INSERT INTO node_access (node, alarm_at, alarm, alarms) SELECT name, @t, @a, 1 FROM nodes WHERE name = @n
            ON CONFLICT (node) DO UPDATE SET alarm_at = excluded.alarm_at, alarm = excluded.alarm, alarms = node_access.alarms + 1
            """,
            ("@n", name), ("@t", Sql.ToMilliseconds(at)), ("@a", text));
    }

    /// <summary>Every node's revocation and alarms, for `sidus node status`.</summary>
    public async Task<IReadOnlyList<NodeAccessRecord>> GetAccessRecordsAsync(CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        var list = new List<NodeAccessRecord>();
        await using var cmd = Sql.Command(c, null, "SELECT node, revoked_at, alarm_at, alarm, alarms FROM node_access ORDER BY node");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new NodeAccessRecord(
                r.GetString(0), r.IsDBNull(1) ? null : Sql.FromMilliseconds(r.GetInt64(1)), r.IsDBNull(2) ? null : Sql.FromMilliseconds(r.GetInt64(2)),
                r.NullableString(3), r.GetInt64(4)));
        }

        return list;
    }

    /// <summary>Deletes boot events older than <paramref name="before"/>; returns how many.</summary>
    public async Task<int> PruneBootEventsAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        return await Sql.ExecuteAsync(c, null, ct, "DELETE FROM boot_events WHERE at < @t", ("@t", Sql.ToMilliseconds(before)));
    }

    /// <summary>Every revision of layout NAME, oldest first (`sidus layout show NAME --revision N`); empty when there is none.</summary>
    public async Task<IReadOnlyList<Layouts.StoredLayout>> GetLayoutHistoryAsync(string name, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginReadAsync(c, ct);
        return await Rows.LayoutHistoryAsync(c, tx, name.ToLowerInvariant(), ct);
    }

    internal Task<DbConnection> OpenConnectionAsync(CancellationToken ct) => _dialect.OpenAsync(ct);

    public ValueTask DisposeAsync() => _dialect.DisposeAsync();

    /// <summary>
    /// The stage a boot is at: its last event, except that notes the running system sends after "up" (the agent
    /// reconnecting its root, ram mode leaving the server) do not take a node that is up back to "agent".
    /// </summary>
    /// <summary>A stored "up" report; one that no longer reads (damaged by hand) is left out rather than failing the status.</summary>
    private static UpReport? ReadUp(string? json)
    {
        try
        {
            return json is null ? null : UpReport.FromJson(Encoding.UTF8.GetBytes(json));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static StageTiming LatestOf(List<StageTiming> stages) =>
        stages[^1].Stage == BootStage.Agent && stages.FindLast(s => s.Stage == BootStage.Up) is { } up ? up : stages[^1];
}
