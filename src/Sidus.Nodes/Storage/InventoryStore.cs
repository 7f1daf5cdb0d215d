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
        var edit = new InventoryEdit(c, tx, _dialect, ct);
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
    /// Records a machine that asked to boot but is in no node. Returns false (and stores nothing) when the MAC
    /// belongs to a node by now. Repeated sightings update last-seen and the count.
    /// </summary>
    public async Task<bool> RegisterDiscoveredAsync(
        MacAddress mac, string? architecture, DateTimeOffset seenAt, string? network = null, string? group = null, CancellationToken ct = default)
    {
        await using var c = await _dialect.OpenAsync(ct);
        await using var tx = await _dialect.BeginWriteAsync(c, ct);
        if (await Sql.ScalarAsync(c, tx, ct, "SELECT node FROM node_macs WHERE mac = @m", ("@m", mac.ToString())) is not null)
        {
            return false;
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
        return true;
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

    /// <summary>Stores one boot stage report. The node name is taken from the MAC when the caller did not give it.</summary>
    public async Task RecordBootEventAsync(BootEvent e, CancellationToken ct = default)
    {
        var detail = e.Detail is { Length: > BootStages.MaxDetailLength } d ? d[..BootStages.MaxDetailLength] : e.Detail;
        await using var c = await _dialect.OpenAsync(ct);
        await Sql.ExecuteAsync(
            c, null, ct,
            "INSERT INTO boot_events (mac, node, stage, at, detail, image, up) VALUES (@m, COALESCE(@n, (SELECT node FROM node_macs WHERE mac = @m)), @s, @t, @d, @i, @u)",
            ("@m", e.Mac.ToString()), ("@n", e.Node), ("@s", e.Stage.ToText()), ("@t", Sql.ToMilliseconds(e.At)), ("@d", detail),
            ("@i", e.Image), ("@u", e.Up is null ? null : e.Up.ToJson()));
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
    /// Revokes every credential of node NAME issued before AT (`sidus node revoke`). An edit: the change counter moves,
    /// so a running server reloads the inventory and refuses them.
    /// </summary>
    public Task RevokeCredentialsAsync(string name, DateTimeOffset at, CancellationToken ct = default) =>
        EditAsync(e => e.RevokeCredentialsAsync(name, at), ct);

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
