namespace Sidus.Nodes.Storage;

/// <summary>Reads inventory rows into model records; used by plain reads and inside edit transactions.</summary>
internal static class Rows
{
    public static async Task<List<Node>> NodesAsync(DbConnection c, DbTransaction? tx, string? name, CancellationToken ct)
    {
        var where = name is null ? "" : " WHERE name = @n";
        var byNode = new Dictionary<string, (List<MacAddress> Macs, List<string> Groups)>(StringComparer.Ordinal);
        var rows = new List<(string Name, string? Ip, NodeSettings Settings, long Revision)>();
        await using (var cmd = Sql.Command(c, tx, $"SELECT name, ip, image, mode, kernel_args, tags, layout, update_excludes, revision FROM nodes{where} ORDER BY name", ("@n", name)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var n = r.GetString(0);
                rows.Add((n, r.NullableString(1), ReadSettings(r, 2), r.GetInt64(8)));
                byNode[n] = ([], []);
            }
        }

        var whereNode = name is null ? "" : " WHERE node = @n";
        await using (var cmd = Sql.Command(c, tx, $"SELECT node, mac FROM node_macs{whereNode} ORDER BY node, position", ("@n", name)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                if (byNode.TryGetValue(r.GetString(0), out var lists))
                {
                    lists.Macs.Add(MacAddress.Parse(r.GetString(1)));
                }
            }
        }

        await using (var cmd = Sql.Command(c, tx, $"SELECT node, grp FROM node_groups{whereNode} ORDER BY node, position", ("@n", name)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                if (byNode.TryGetValue(r.GetString(0), out var lists))
                {
                    lists.Groups.Add(r.GetString(1));
                }
            }
        }

        return rows.Select(row => new Node
        {
            Name = row.Name,
            Ip = row.Ip is null ? null : IPAddress.Parse(row.Ip),
            Macs = [.. byNode[row.Name].Macs],
            Groups = [.. byNode[row.Name].Groups],
            Settings = row.Settings,
            Revision = row.Revision,
        }).ToList();
    }

    public static async Task<List<Group>> GroupsAsync(DbConnection c, DbTransaction? tx, string? name, CancellationToken ct)
    {
        var where = name is null ? "" : " WHERE name = @n";
        var list = new List<Group>();
        await using var cmd = Sql.Command(c, tx, $"SELECT name, description, image, mode, kernel_args, tags, layout, update_excludes, revision FROM groups{where} ORDER BY name", ("@n", name));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Group
            {
                Name = r.GetString(0),
                Description = r.NullableString(1),
                Settings = ReadSettings(r, 2),
                Revision = r.GetInt64(8),
            });
        }

        return list;
    }

    public static async Task<NodeSettings> DefaultsAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        await using var cmd = Sql.Command(c, tx, "SELECT image, mode, kernel_args, tags, layout, update_excludes FROM defaults WHERE id = 1");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadSettings(r, 0) : NodeSettings.Empty;
    }

    public static async Task<List<NetworkPolicy>> NetworksAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        var list = new List<NetworkPolicy>();
        await using var cmd = Sql.Command(c, tx, "SELECT name, subnet, unknown_policy, default_group, revision FROM networks ORDER BY name");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new NetworkPolicy
            {
                Name = r.GetString(0),
                Subnet = r.NullableString(1),
                Unknown = NetworkPolicy.ParsePolicy(r.GetString(2)),
                DefaultGroup = r.NullableString(3),
                Revision = r.GetInt64(4),
            });
        }

        return list;
    }

    public static async Task<long> VersionAsync(DbConnection c, DbTransaction? tx, CancellationToken ct) =>
        (long)(await Sql.ScalarAsync(c, tx, ct, "SELECT value FROM meta WHERE key = @k", ("@k", Migrations.VersionCounter)) ?? 0L);

    public static async Task<InventorySnapshot> SnapshotAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        var version = await VersionAsync(c, tx, ct);
        var nodes = await NodesAsync(c, tx, null, ct);
        var groups = await GroupsAsync(c, tx, null, ct);
        var defaults = await DefaultsAsync(c, tx, ct);
        var networks = await NetworksAsync(c, tx, ct);
        var revoked = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using (var cmd = Sql.Command(c, tx, "SELECT node, revoked_at FROM node_access WHERE revoked_at IS NOT NULL"))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                revoked[r.GetString(0)] = Sql.FromMilliseconds(r.GetInt64(1));
            }
        }

        var requested = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using (var cmd = Sql.Command(c, tx, "SELECT node, overrides_requested_at FROM node_requests WHERE overrides_requested_at IS NOT NULL"))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                requested[r.GetString(0)] = Sql.FromMilliseconds(r.GetInt64(1));
            }
        }

        var installed = new Dictionary<string, InstalledRecord>(StringComparer.Ordinal);
        await using (var cmd = Sql.Command(c, tx, "SELECT node, version, image_ref, installed_at, updated_at FROM node_installs"))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                installed[r.GetString(0)] = new InstalledRecord(
                    r.GetString(0), r.GetString(1), r.GetString(2), Sql.FromMilliseconds(r.GetInt64(3)), r.IsDBNull(4) ? null : Sql.FromMilliseconds(r.GetInt64(4)));
            }
        }

        var jobs = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using (var cmd = Sql.Command(c, tx, "SELECT node, requested_at FROM node_jobs"))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                jobs[r.GetString(0)] = Sql.FromMilliseconds(r.GetInt64(1));
            }
        }

        var tokens = await AdminTokensAsync(c, tx, ct);
        var layouts = await LayoutsAsync(c, tx, ct);
        return new InventorySnapshot(version, nodes, groups, defaults, networks, tokens, revoked, requested, layouts) { Installs = installed, JobsRequested = jobs };
    }

    /// <summary>Every stored layout at its latest revision, with its count of revisions.</summary>
    public static async Task<List<Layouts.StoredLayout>> LayoutsAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        var list = new List<Layouts.StoredLayout>();
        await using var cmd = Sql.Command(
            c, tx,
            """
            SELECT r.name, r.revision, r.text, r.at, h.n FROM layout_revisions r
            JOIN (SELECT name, MAX(revision) AS top, COUNT(*) AS n FROM layout_revisions GROUP BY name) h ON h.name = r.name AND h.top = r.revision
            ORDER BY r.name
            """);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new(r.GetString(0), r.GetInt64(1), r.GetString(2), Sql.FromMilliseconds(r.GetInt64(3)), r.GetInt64(4)));
        }

        return list;
    }

    /// <summary>Every revision of layout NAME, oldest first (empty when there is no such layout).</summary>
    public static async Task<List<Layouts.StoredLayout>> LayoutHistoryAsync(DbConnection c, DbTransaction? tx, string name, CancellationToken ct)
    {
        var rows = new List<(long Revision, string Text, long At)>();
        await using (var cmd = Sql.Command(c, tx, "SELECT revision, text, at FROM layout_revisions WHERE name = @n ORDER BY revision", ("@n", name)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                rows.Add((r.GetInt64(0), r.GetString(1), r.GetInt64(2)));
            }
        }

        return [.. rows.Select(x => new Layouts.StoredLayout(name, x.Revision, x.Text, Sql.FromMilliseconds(x.At), rows.Count))];
    }

    public static async Task<List<Access.AdminToken>> AdminTokensAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        var list = new List<Access.AdminToken>();
        await using var cmd = Sql.Command(c, tx, "SELECT name, hash, created, expires, last_used FROM admin_tokens ORDER BY name");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Access.AdminToken(
                r.GetString(0), r.GetString(1), Sql.FromMilliseconds(r.GetInt64(2)),
                r.IsDBNull(3) ? null : Sql.FromMilliseconds(r.GetInt64(3)), r.IsDBNull(4) ? null : Sql.FromMilliseconds(r.GetInt64(4))));
        }

        return list;
    }

    /// <summary>Reads image, mode, kernel_args, tags, layout, update_excludes starting at column <paramref name="first"/>.</summary>
    private static NodeSettings ReadSettings(DbDataReader r, int first) => new()
    {
        Image = r.NullableString(first),
        Mode = r.NullableString(first + 1) is { } m ? BootModeSetting.Parse(m) : null,
        KernelArgs = r.NullableString(first + 2),
        Tags = TagCodec.Decode(r.NullableString(first + 3)),
        Layout = r.NullableString(first + 4),
        UpdateExcludes = [.. (r.NullableString(first + 5) ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries)],
    };

    public static (string, object?)[] SettingsParameters(NodeSettings s) =>
    [
        ("@image", s.Image),
        ("@mode", s.Mode?.ToText()),
        ("@args", s.KernelArgs),
        ("@tags", TagCodec.Encode(s.Tags)),
        ("@layout", s.Layout),

        // One path a line: paths are one line each (Names.UpdateExclude).
        ("@excludes", s.UpdateExcludes.IsDefaultOrEmpty ? null : string.Join('\n', s.UpdateExcludes) + "\n"),
    ];

    public static ImmutableArray<T> OrEmpty<T>(this ImmutableArray<T> a) => a.IsDefault ? [] : a;
}
