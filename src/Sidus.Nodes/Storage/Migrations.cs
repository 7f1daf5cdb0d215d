namespace Sidus.Nodes.Storage;

/// <summary>
/// Schema versions, applied in order inside one transaction each, recorded in schema_version. A migration that
/// has shipped is never edited: a change is a new entry.
/// </summary>
internal static class Migrations
{
    public const string VersionCounter = "version";

    private static readonly (int Version, Func<SqlDialect, string[]> Statements)[] All =
    [
        (1, d =>
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            $"INSERT INTO meta (key, value) VALUES ('{VersionCounter}', 0)",
            """
            CREATE TABLE groups (
                name TEXT PRIMARY KEY, description TEXT, image TEXT, mode TEXT, kernel_args TEXT, tags TEXT,
                revision BIGINT NOT NULL)
            """,
            """
            CREATE TABLE nodes (
                name TEXT PRIMARY KEY, ip TEXT UNIQUE, image TEXT, mode TEXT, kernel_args TEXT, tags TEXT,
                revision BIGINT NOT NULL)
            """,
            """
            CREATE TABLE node_macs (
                mac TEXT PRIMARY KEY, node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
                position BIGINT NOT NULL)
            """,
            "CREATE INDEX node_macs_node ON node_macs (node)",
            """
            CREATE TABLE node_groups (
                node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
                grp TEXT NOT NULL REFERENCES groups (name),
                position BIGINT NOT NULL, PRIMARY KEY (node, grp))
            """,
            "CREATE INDEX node_groups_grp ON node_groups (grp)",
            """
            CREATE TABLE defaults (
                id BIGINT PRIMARY KEY, image TEXT, mode TEXT, kernel_args TEXT, tags TEXT, revision BIGINT NOT NULL)
            """,
            "INSERT INTO defaults (id, revision) VALUES (1, 0)",
            """
            CREATE TABLE networks (
                name TEXT PRIMARY KEY, subnet TEXT, unknown_policy TEXT NOT NULL, default_group TEXT,
                revision BIGINT NOT NULL)
            """,
            """
            CREATE TABLE discovered (
                mac TEXT PRIMARY KEY, arch TEXT, network TEXT, grp TEXT, first_seen BIGINT NOT NULL,
                last_seen BIGINT NOT NULL, times_seen BIGINT NOT NULL)
            """,
            $"""
            CREATE TABLE boot_events (
                id {d.IdentityColumn}, mac TEXT NOT NULL, node TEXT, stage TEXT NOT NULL, at BIGINT NOT NULL,
                detail TEXT)
            """,
            "CREATE INDEX boot_events_mac ON boot_events (mac, stage, at)",
            "CREATE INDEX boot_events_at ON boot_events (at)",
        ]),
        (2, _ =>
        [
            // What the node agent's events carry besides the detail line: the version id and the "up" report (JSON
            // of Sidus.Wire.Contracts.UpReport).
            "ALTER TABLE boot_events ADD COLUMN image TEXT",
            "ALTER TABLE boot_events ADD COLUMN up TEXT",
        ]),
        (3, _ =>
        [
            // Admin tokens for the HTTP API: the SHA-256 of the secret only (the secret is shown once, at creation).
            """
            CREATE TABLE admin_tokens (
                name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, created BIGINT NOT NULL, expires BIGINT,
                last_used BIGINT)
            """,
        ]),
        (4, _ =>
        [
            // Node credentials (docs/node-access.md): when they were last revoked (every credential issued before is
            // refused) and the latest alarm (a boot ticket claimed twice), shown by `sidus node status`.
            """
            CREATE TABLE node_access (
                node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE, revoked_at BIGINT,
                alarm_at BIGINT, alarm TEXT, alarms BIGINT NOT NULL DEFAULT 0)
            """,
        ]),
        (5, _ =>
        [
            // `sidus node apply-overrides` (docs/overrides.md): when the admin last asked a running node to fetch its
            // layer again, and what the node's agent answered (when, and its result line).
            """
            CREATE TABLE node_requests (
                node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE, overrides_requested_at BIGINT,
                overrides_applied_at BIGINT, overrides_answered_request BIGINT, overrides_result TEXT)
            """,
        ]),
        (6, _ =>
        [
            // Disk layouts (docs/layouts.md): every `sidus layout set` adds a revision; the latest is the current one.
            // A layout exists while it has a revision. Nodes, groups and the defaults name one by its name.
            """
            CREATE TABLE layout_revisions (
                name TEXT NOT NULL, revision BIGINT NOT NULL, text TEXT NOT NULL, at BIGINT NOT NULL,
                PRIMARY KEY (name, revision))
            """,
            "ALTER TABLE nodes ADD COLUMN layout TEXT",
            "ALTER TABLE groups ADD COLUMN layout TEXT",
            "ALTER TABLE defaults ADD COLUMN layout TEXT",
        ]),
        (7, _ =>
        [
            // Installed nodes (docs/installed-nodes.md): the version a node's disk holds, since when, and when an
            // update last brought it there. A node with a row boots its disk; `sidus node reinstall` removes the row.
            """
            CREATE TABLE node_installs (
                node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE, version TEXT NOT NULL,
                image_ref TEXT NOT NULL, installed_at BIGINT NOT NULL, updated_at BIGINT)
            """,
        ]),
        (8, _ =>
        [
            // `sidus node update` and `sidus node drift` (docs/installed-nodes.md): the latest job given to an installed
            // node's agent (its text, Sidus.Wire.Contracts.NodeJob) and the agent's answer to it.
            """
            CREATE TABLE node_jobs (
                node TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE, job TEXT NOT NULL, requested_at BIGINT NOT NULL,
                answered_at BIGINT, succeeded BIGINT, result TEXT)
            """,
        ]),
        (9, _ =>
        [
            // Paths `sidus node update` leaves alone (docs/installed-nodes.md), besides the built-in ones: one path a
            // line, the union of the node's, its groups' and the defaults'.
            "ALTER TABLE nodes ADD COLUMN update_excludes TEXT",
            "ALTER TABLE groups ADD COLUMN update_excludes TEXT",
            "ALTER TABLE defaults ADD COLUMN update_excludes TEXT",
        ]),
    ];

    public static int Latest => All[^1].Version;

    public static async Task<int> RunAsync(SqlDialect dialect, CancellationToken ct)
    {
        await using var c = await dialect.OpenAsync(ct);
        await using var tx = await dialect.BeginWriteAsync(c, ct);
        await dialect.LockForMigrationAsync(c, tx, ct);
        await Sql.ExecuteAsync(c, tx, ct, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_at BIGINT NOT NULL)");
        var current = Convert.ToInt32(
            await Sql.ScalarAsync(c, tx, ct, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0,
            CultureInfo.InvariantCulture);
        if (current > Latest)
        {
            throw new InventoryException(
                InventoryErrorKind.Conflict,
                $"the inventory at {dialect.Describe} has schema version {current}, newer than this sidus knows ({Latest}): upgrade sidus");
        }

        foreach (var (version, statements) in All)
        {
            if (version <= current)
            {
                continue;
            }

            foreach (var sql in statements(dialect))
            {
                await Sql.ExecuteAsync(c, tx, ct, sql);
            }

            await Sql.ExecuteAsync(
                c, tx, ct, "INSERT INTO schema_version (version, applied_at) VALUES (@v, @t)",
                ("@v", (long)version), ("@t", Sql.ToMilliseconds(DateTimeOffset.UtcNow)));
        }

        await tx.CommitAsync(ct);
        return Latest;
    }

    internal static async Task<long> SchemaVersionAsync(DbConnection c, CancellationToken ct) =>
        Convert.ToInt64(await Sql.ScalarAsync(c, null, ct, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0L, CultureInfo.InvariantCulture);
}
