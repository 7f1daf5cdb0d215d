using Sidus.Nodes.Layouts;

namespace Sidus.Nodes.Storage;

/// <summary>
/// One write transaction on the inventory. Writers run one at a time (the change counter is updated first, which
/// takes the write lock on every database), so what an edit reads stays true until it commits: two admins editing at
/// once both keep their edits. Optimistic callers can also pass the revision they read and get a conflict if it moved.
/// </summary>
public sealed class InventoryEdit
{
    private const int ListInMessage = 5;
    private readonly DbConnection _c;
    private readonly DbTransaction _tx;
    private readonly SqlDialect _dialect;
    private readonly CancellationToken _ct;
    private readonly Func<string, string?>? _images;

    internal InventoryEdit(DbConnection connection, DbTransaction tx, SqlDialect dialect, Func<string, string?>? images, CancellationToken ct)
    {
        _c = connection;
        _tx = tx;
        _dialect = dialect;
        _images = images;
        _ct = ct;
    }

    /// <summary>See <see cref="InventoryStore.FixedAddressRule"/>.</summary>
    internal Func<IPAddress, string?>? FixedAddressRule { get; init; }

    /// <summary>True once this edit wrote anything; an edit that wrote nothing is rolled back and leaves the version alone.</summary>
    public bool Changed { get; private set; }

    public async Task<Node?> GetNodeAsync(string name) =>
        (await Rows.NodesAsync(_c, _tx, name.ToLowerInvariant(), _ct)).SingleOrDefault();

    public async Task<Node> RequireNodeAsync(string name) =>
        await GetNodeAsync(name) ?? Throw.NotFound<Node>($"no node is named '{name}' (`sidus node list` shows the nodes)");

    public async Task<IReadOnlyList<Node>> ListNodesAsync() => await Rows.NodesAsync(_c, _tx, null, _ct);

    public async Task<Group?> GetGroupAsync(string name) =>
        (await Rows.GroupsAsync(_c, _tx, name.ToLowerInvariant(), _ct)).SingleOrDefault();

    public async Task<Group> RequireGroupAsync(string name) =>
        await GetGroupAsync(name) ?? Throw.NotFound<Group>($"no group is named '{name}' (`sidus group list` shows the groups)");

    public async Task<IReadOnlyList<Group>> ListGroupsAsync() => await Rows.GroupsAsync(_c, _tx, null, _ct);

    public Task<NodeSettings> GetDefaultsAsync() => Rows.DefaultsAsync(_c, _tx, _ct);

    public async Task<IReadOnlyList<NetworkPolicy>> ListNetworksAsync() => await Rows.NetworksAsync(_c, _tx, _ct);

    public Task<InventorySnapshot> SnapshotAsync() => Rows.SnapshotAsync(_c, _tx, _ct);

    /// <summary>Refuses a fixed address no machine can have in the subnet the networks declare (see <see cref="HostAddress"/>).</summary>
    private async Task CheckAddressAsync(Node node)
    {
        if (node.Ip is { } ip)
        {
            HostAddress.Check(ip, await ListNetworksAsync(), $"node '{node.Name}'");
            if (FixedAddressRule?.Invoke(ip) is { } problem)
            {
                Throw.Invalid($"node '{node.Name}': {ip} is {problem}");
            }
        }
    }

    /// <summary>Adds a node; refuses a taken name, a MAC or IP another node has, or a group that does not exist.</summary>
    public async Task<Node> AddNodeAsync(Node node)
    {
        node = node.Validated();
        await CheckAddressAsync(node);
        if (await NodeExistsAsync(node.Name))
        {
            Throw.Conflict($"node '{node.Name}' already exists: change it with `sidus node set {node.Name}`");
        }

        await CheckNodeReferencesAsync(node);
        ImageReferenceRule.Require(_images, node.Settings.Image, null, $"node '{node.Name}'");
        await RequireLayoutAsync(node.Settings.Layout, null, $"node '{node.Name}'");
        var stored = node with { Revision = 1 };
        await ExecAsync(
            "INSERT INTO nodes (name, ip, image, mode, kernel_args, tags, layout, update_excludes, revision) VALUES (@name, @ip, @image, @mode, @args, @tags, @layout, @excludes, 1)",
            [("@name", node.Name), ("@ip", node.Ip?.ToString()), .. Rows.SettingsParameters(node.Settings)]);
        await WriteNodeListsAsync(stored);
        await ExecAsync("DELETE FROM discovered WHERE mac IN (" + string.Join(", ", node.Macs.Select((_, i) => "@m" + i)) + ")",
            [.. node.Macs.Select((m, i) => ("@m" + i, (object?)m.ToString()))]);
        return stored;
    }

    /// <summary>
    /// Stores <paramref name="node"/> over the node of that name. With <paramref name="expectedRevision"/>, refuses
    /// (conflict) when the stored node has moved on since the caller read it.
    /// </summary>
    public async Task<Node> UpdateNodeAsync(Node node, long? expectedRevision = null)
    {
        node = node.Validated();
        await CheckAddressAsync(node);
        var current = await RequireNodeAsync(node.Name);
        if (expectedRevision is { } expected && current.Revision != expected)
        {
            Throw.Conflict(
                $"node '{node.Name}' was changed by someone else (revision {current.Revision}, you read {expected}): read it again and retry");
        }

        await CheckNodeReferencesAsync(node);
        ImageReferenceRule.Require(_images, node.Settings.Image, current.Settings.Image, $"node '{node.Name}'");
        await RequireLayoutAsync(node.Settings.Layout, current.Settings.Layout, $"node '{node.Name}'");
        var rows = await ExecAsync(
            "UPDATE nodes SET ip = @ip, image = @image, mode = @mode, kernel_args = @args, tags = @tags, layout = @layout, update_excludes = @excludes, revision = revision + 1 WHERE name = @name AND revision = @rev",
            [("@name", node.Name), ("@ip", node.Ip?.ToString()), ("@rev", current.Revision), .. Rows.SettingsParameters(node.Settings)]);
        if (rows != 1)
        {
            Throw.Conflict($"node '{node.Name}' was changed by someone else while saving: retry");
        }

        var stored = node with { Revision = current.Revision + 1 };
        await ExecAsync("DELETE FROM node_macs WHERE node = @n", [("@n", node.Name)]);
        await ExecAsync("DELETE FROM node_groups WHERE node = @n", [("@n", node.Name)]);
        await WriteNodeListsAsync(stored);
        return stored;
    }

    /// <summary>Reads the node, applies <paramref name="change"/> and stores it, all inside this transaction.</summary>
    public async Task<Node> EditNodeAsync(string name, Func<Node, Node> change)
    {
        var current = await RequireNodeAsync(name);
        var next = change(current) with { Name = current.Name };
        return await UpdateNodeAsync(next, current.Revision);
    }

    public async Task RemoveNodeAsync(string name)
    {
        var rows = await ExecAsync("DELETE FROM nodes WHERE name = @n", [("@n", name.ToLowerInvariant())]);
        if (rows == 0)
        {
            Throw.NotFound($"no node is named '{name}' (`sidus node list` shows the nodes)");
        }
    }

    /// <summary>Every credential of node NAME issued before AT is refused from now on (docs/node-access.md).</summary>
    public async Task RevokeCredentialsAsync(string name, DateTimeOffset at)
    {
        var node = await RequireNodeAsync(name);
        await ExecAsync(
            "INSERT INTO node_access (node, revoked_at) VALUES (@n, @t) ON CONFLICT (node) DO UPDATE SET revoked_at = excluded.revoked_at",
            [("@n", node.Name), ("@t", Sql.ToMilliseconds(at))]);
    }

    /// <summary>Node NAME's disk now holds VERSION (IMAGEREF): installed at AT, or, with UPDATED, brought there by an update.</summary>
    public async Task RecordInstalledAsync(string name, string version, string imageRef, DateTimeOffset at, bool updated)
    {
        var node = await RequireNodeAsync(name);
        await ExecAsync(
            updated
                ? "UPDATE node_installs SET version = @v, image_ref = @r, updated_at = @t WHERE node = @n"
                : "INSERT INTO node_installs (node, version, image_ref, installed_at) VALUES (@n, @v, @r, @t) " +
                  "ON CONFLICT (node) DO UPDATE SET version = excluded.version, image_ref = excluded.image_ref, installed_at = excluded.installed_at, updated_at = NULL",
            [("@n", node.Name), ("@v", version), ("@r", imageRef), ("@t", Sql.ToMilliseconds(at))]);
    }

    /// <summary>Forgets that node NAME is installed (`sidus node reinstall`): its next network boot installs it again.
    /// False when it was not installed.</summary>
    public async Task<bool> ForgetInstalledAsync(string name)
    {
        var node = await RequireNodeAsync(name);
        return await ExecAsync("DELETE FROM node_installs WHERE node = @n", [("@n", node.Name)]) > 0;
    }

    /// <summary>Gives node NAME a job (its text, <c>NodeJob.Format</c>) asked at AT; it replaces an earlier one.</summary>
    public async Task RequestJobAsync(string name, string job, DateTimeOffset at)
    {
        var node = await RequireNodeAsync(name);
        await ExecAsync(
            "INSERT INTO node_jobs (node, job, requested_at) VALUES (@n, @j, @t) " +
            "ON CONFLICT (node) DO UPDATE SET job = excluded.job, requested_at = excluded.requested_at, answered_at = NULL, succeeded = NULL, result = NULL",
            [("@n", node.Name), ("@j", job), ("@t", Sql.ToMilliseconds(at))]);
    }

    public async Task RequestOverridesAsync(string name, DateTimeOffset at)
    {
        var node = await RequireNodeAsync(name);
        await ExecAsync(
            "INSERT INTO node_requests (node, overrides_requested_at) VALUES (@n, @t) ON CONFLICT (node) DO UPDATE SET overrides_requested_at = excluded.overrides_requested_at",
            [("@n", node.Name), ("@t", Sql.ToMilliseconds(at))]);
    }

    public async Task<Group> AddGroupAsync(Group group)
    {
        group = group.Validated();
        if (await GetGroupAsync(group.Name) is not null)
        {
            Throw.Conflict($"group '{group.Name}' already exists: change it with `sidus group set {group.Name}`");
        }

        ImageReferenceRule.Require(_images, group.Settings.Image, null, $"group '{group.Name}'");
        await RequireLayoutAsync(group.Settings.Layout, null, $"group '{group.Name}'");

        await ExecAsync(
            "INSERT INTO groups (name, description, image, mode, kernel_args, tags, layout, update_excludes, revision) VALUES (@name, @desc, @image, @mode, @args, @tags, @layout, @excludes, 1)",
            [("@name", group.Name), ("@desc", group.Description), .. Rows.SettingsParameters(group.Settings)]);
        return group with { Revision = 1 };
    }

    public async Task<Group> UpdateGroupAsync(Group group, long? expectedRevision = null)
    {
        group = group.Validated();
        var current = await RequireGroupAsync(group.Name);
        if (expectedRevision is { } expected && current.Revision != expected)
        {
            Throw.Conflict(
                $"group '{group.Name}' was changed by someone else (revision {current.Revision}, you read {expected}): read it again and retry");
        }

        ImageReferenceRule.Require(_images, group.Settings.Image, current.Settings.Image, $"group '{group.Name}'");
        await RequireLayoutAsync(group.Settings.Layout, current.Settings.Layout, $"group '{group.Name}'");

        await ExecAsync(
            "UPDATE groups SET description = @desc, image = @image, mode = @mode, kernel_args = @args, tags = @tags, layout = @layout, update_excludes = @excludes, revision = revision + 1 WHERE name = @name",
            [("@name", group.Name), ("@desc", group.Description), .. Rows.SettingsParameters(group.Settings)]);
        return group with { Revision = current.Revision + 1 };
    }

    public async Task<Group> EditGroupAsync(string name, Func<Group, Group> change)
    {
        var current = await RequireGroupAsync(name);
        return await UpdateGroupAsync(change(current) with { Name = current.Name }, current.Revision);
    }

    /// <summary>
    /// Removes a group. Refuses while nodes use it unless <paramref name="force"/>, which takes it out of those
    /// nodes; always refuses while a network uses it as its default group.
    /// </summary>
    public async Task RemoveGroupAsync(string name, bool force)
    {
        var group = await RequireGroupAsync(name);
        var networks = (await ListNetworksAsync()).Where(n => n.DefaultGroup == group.Name).Select(n => n.Name).ToList();
        if (networks.Count > 0)
        {
            Throw.Conflict($"group '{group.Name}' is the default group of network(s) {string.Join(", ", networks)}: change those first");
        }

        var users = await NodesInGroupAsync(group.Name);
        if (users.Count > 0 && !force)
        {
            Throw.Conflict(
                $"group '{group.Name}' is used by {users.Count} node(s) ({Sample(users)}): take it off them, or use --force to remove it from them");
        }

        foreach (var node in users)
        {
            await ExecAsync("UPDATE nodes SET revision = revision + 1 WHERE name = @n", [("@n", node)]);
        }

        await ExecAsync("DELETE FROM node_groups WHERE grp = @g", [("@g", group.Name)]);
        await ExecAsync("DELETE FROM groups WHERE name = @g", [("@g", group.Name)]);
    }

    public async Task<NodeSettings> SetDefaultsAsync(NodeSettings defaults)
    {
        defaults = defaults.Validated();
        var before = await GetDefaultsAsync();
        ImageReferenceRule.Require(_images, defaults.Image, before.Image, "the defaults");
        await RequireLayoutAsync(defaults.Layout, before.Layout, "the defaults");
        await ExecAsync(
            "UPDATE defaults SET image = @image, mode = @mode, kernel_args = @args, tags = @tags, layout = @layout, update_excludes = @excludes, revision = revision + 1 WHERE id = 1",
            Rows.SettingsParameters(defaults));
        return defaults;
    }

    /// <summary>Every revision of layout NAME, oldest first; empty when there is none.</summary>
    public async Task<IReadOnlyList<StoredLayout>> GetLayoutHistoryAsync(string name) =>
        await Rows.LayoutHistoryAsync(_c, _tx, name.ToLowerInvariant(), _ct);

    /// <summary>
    /// Stores TEXT as the new revision of layout NAME (made if new), after the checks of `sidus layout check`
    /// (<see cref="StoredLayout.Check"/>: errors name SOURCE, the line and the field). The same text as the current
    /// revision adds none: Added is false then.
    /// </summary>
    public async Task<(StoredLayout Layout, bool Added)> SetLayoutAsync(string name, string text, DateTimeOffset at, string? source = null)
    {
        name = Names.Label(name, "layout");
        StoredLayout.Check(text, source ?? $"layout {name}");
        var history = await GetLayoutHistoryAsync(name);
        if (history.Count > 0 && history[^1].Text == text)
        {
            return (history[^1], false);
        }

        var revision = (history.Count == 0 ? 0 : history[^1].Revision) + 1;
        await ExecAsync(
            "INSERT INTO layout_revisions (name, revision, text, at) VALUES (@n, @r, @t, @a)",
            [("@n", name), ("@r", revision), ("@t", text), ("@a", Sql.ToMilliseconds(at))]);
        return (new StoredLayout(name, revision, text, at, history.Count + 1), true);
    }

    /// <summary>
    /// Removes layout NAME with its history. Refuses while nodes, groups or the defaults use it (named in the message)
    /// unless <paramref name="force"/>: their settings then name a layout that is gone, and an install refuses them.
    /// </summary>
    public async Task RemoveLayoutAsync(string name, bool force)
    {
        name = name.ToLowerInvariant();
        if ((await GetLayoutHistoryAsync(name)).Count == 0)
        {
            Throw.NotFound($"no layout is named '{name}' (`sidus layout list` shows the layouts)");
        }

        var users = LayoutUsers.Of(await SnapshotAsync(), name);
        if (users.Count > 0 && !force)
        {
            Throw.Conflict(
                $"layout '{name}' is used by {LayoutUsers.Describe(users)}: give them another layout (or --clear-layout), or use --force "
                + "(their installs then refuse until they name a layout that exists)");
        }

        await ExecAsync("DELETE FROM layout_revisions WHERE name = @n", [("@n", name)]);
    }

    /// <summary>Refuses a layout setting that changed from BEFORE to a name no layout has (a later `layout rm --force` blocks no unrelated edit).</summary>
    private async Task RequireLayoutAsync(string? layout, string? before, string holder)
    {
        if (layout is null || layout == before)
        {
            return;
        }

        if (await Sql.ScalarAsync(_c, _tx, _ct, "SELECT 1 FROM layout_revisions WHERE name = @n LIMIT 1", ("@n", layout)) is null)
        {
            Throw.NotFound($"{holder} names layout '{layout}', which does not exist: store it with `sidus layout set {layout} FILE`");
        }
    }

    /// <summary>Refuses a subnet that would make a node's fixed address its network or broadcast address.</summary>
    private async Task CheckFixedAddressesAsync(NetworkPolicy network)
    {
        if (network.Subnet is null)
        {
            return;
        }

        var networks = (await ListNetworksAsync()).Where(n => n.Name != network.Name).Append(network).ToList();
        foreach (var node in await ListNodesAsync())
        {
            if (node.Ip is { } ip && network.Contains(ip) && HostAddress.Problem(ip, networks) is { } problem)
            {
                Throw.Invalid($"network '{network.Name}' {network.Subnet}: node '{node.Name}' has {ip}, which would be {problem}: "
                    + $"change its address first (`sidus node set {node.Name} --ip IP`)");
            }
        }
    }

    public async Task<NetworkPolicy> SetNetworkAsync(NetworkPolicy network)
    {
        network = network.Validated();
        if (network.DefaultGroup is { } g && await GetGroupAsync(g) is null)
        {
            Throw.NotFound($"network '{network.Name}' names group '{g}', which does not exist: create it with `sidus group add {g}`");
        }

        await CheckFixedAddressesAsync(network);

        await ExecAsync(
            """
            INSERT INTO networks (name, subnet, unknown_policy, default_group, revision) VALUES (@n, @s, @p, @g, 1)
            ON CONFLICT (name) DO UPDATE SET subnet = excluded.subnet, unknown_policy = excluded.unknown_policy,
                default_group = excluded.default_group, revision = networks.revision + 1
            """,
            [("@n", network.Name), ("@s", network.Subnet), ("@p", NetworkPolicy.PolicyText(network.Unknown)), ("@g", network.DefaultGroup)]);
        return network;
    }

    public async Task RemoveNetworkAsync(string name)
    {
        if (await ExecAsync("DELETE FROM networks WHERE name = @n", [("@n", name.ToLowerInvariant())]) == 0)
        {
            Throw.NotFound($"no network is named '{name}'");
        }
    }

    /// <summary>Turns a discovered machine into a node named <paramref name="name"/>, in the given groups or the one it was discovered with.</summary>
    public async Task<Node> AdoptAsync(MacAddress mac, string name, IReadOnlyList<string>? groups)
    {
        string? discoveredGroup = null;
        var found = false;
        await using (var cmd = Sql.Command(_c, _tx, "SELECT grp FROM discovered WHERE mac = @m", ("@m", mac.ToString())))
        await using (var r = await cmd.ExecuteReaderAsync(_ct))
        {
            if (await r.ReadAsync(_ct))
            {
                found = true;
                discoveredGroup = r.NullableString(0);
            }
        }

        if (!found)
        {
            if (await OwnerOfMacAsync(mac, null) is { } owner)
            {
                Throw.Conflict($"MAC {mac} already belongs to node '{owner}'");
            }

            Throw.NotFound($"no discovered machine has MAC {mac} (`sidus node discovered` lists them)");
        }

        var node = new Node
        {
            Name = name,
            Macs = [mac],
            Groups = groups is { Count: > 0 } ? [.. groups] : discoveredGroup is null ? [] : [discoveredGroup],
        };
        return await AddNodeAsync(node);
    }

    /// <summary>
    /// Makes admin token <paramref name="name"/> and returns its secret: the only time it is ever shown (the
    /// inventory keeps its SHA-256). Refuses a name that is taken.
    /// </summary>
    public async Task<(Access.AdminToken Token, string Secret)> AddAdminTokenAsync(string name, DateTimeOffset now, DateTimeOffset? expires)
    {
        name = Names.Label(name, "token");
        if (expires is { } e && e <= now)
        {
            Throw.Invalid($"token '{name}' would expire before it is made: give a positive duration");
        }

        if (await Sql.ScalarAsync(_c, _tx, _ct, "SELECT 1 FROM admin_tokens WHERE name = @n", ("@n", name)) is not null)
        {
            Throw.Conflict($"token '{name}' already exists: revoke it first (`sidus token revoke {name}`) or choose another name");
        }

        var secret = Access.AdminTokenSecret.New();
        var token = new Access.AdminToken(name, Access.AdminTokenSecret.Hash(secret), now, expires, null);
        await ExecAsync(
            "INSERT INTO admin_tokens (name, hash, created, expires, last_used) VALUES (@n, @h, @c, @e, NULL)",
            [("@n", token.Name), ("@h", token.Hash), ("@c", Sql.ToMilliseconds(now)), ("@e", expires is { } x ? Sql.ToMilliseconds(x) : null)]);
        return (token, secret);
    }

    public async Task RemoveAdminTokenAsync(string name)
    {
        if (await ExecAsync("DELETE FROM admin_tokens WHERE name = @n", [("@n", name.ToLowerInvariant())]) == 0)
        {
            Throw.NotFound($"no token is named '{name}' (`sidus token list` shows the tokens)");
        }
    }

    /// <summary>
    /// Frees the MACs and address of a node so another node in the same edit can take them (a swap in one apply).
    /// Internal: the node is left without MACs until it is updated again in the same transaction.
    /// </summary>
    internal async Task ReleaseIdentityAsync(string name)
    {
        await ExecAsync("DELETE FROM node_macs WHERE node = @n", [("@n", name)]);
        await ExecAsync("UPDATE nodes SET ip = NULL WHERE name = @n", [("@n", name)]);
    }

    private async Task<bool> NodeExistsAsync(string name) =>
        await Sql.ScalarAsync(_c, _tx, _ct, "SELECT 1 FROM nodes WHERE name = @n", ("@n", name)) is not null;

    private async Task<string?> OwnerOfMacAsync(MacAddress mac, string? except) =>
        (string?)await Sql.ScalarAsync(
            _c, _tx, _ct, "SELECT node FROM node_macs WHERE mac = @m AND node <> @self", ("@m", mac.ToString()), ("@self", except ?? ""));

    private async Task<List<string>> NodesInGroupAsync(string group)
    {
        var list = new List<string>();
        await using var cmd = Sql.Command(_c, _tx, "SELECT node FROM node_groups WHERE grp = @g ORDER BY node", ("@g", group));
        await using var r = await cmd.ExecuteReaderAsync(_ct);
        while (await r.ReadAsync(_ct))
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    private async Task CheckNodeReferencesAsync(Node node)
    {
        foreach (var mac in node.Macs)
        {
            if (await OwnerOfMacAsync(mac, node.Name) is { } owner)
            {
                Throw.Conflict($"MAC {mac} already belongs to node '{owner}': remove it there first (`sidus node set {owner} --remove-mac {mac}`)");
            }
        }

        if (node.Ip is { } ip
            && await Sql.ScalarAsync(_c, _tx, _ct, "SELECT name FROM nodes WHERE ip = @ip AND name <> @n", ("@ip", ip.ToString()), ("@n", node.Name)) is string other)
        {
            Throw.Conflict($"IP {ip} is already the address of node '{other}'");
        }

        foreach (var g in node.Groups)
        {
            if (await Sql.ScalarAsync(_c, _tx, _ct, "SELECT 1 FROM groups WHERE name = @g", ("@g", g)) is null)
            {
                Throw.NotFound($"node '{node.Name}' names group '{g}', which does not exist: create it with `sidus group add {g}`");
            }
        }
    }

    private async Task WriteNodeListsAsync(Node node)
    {
        for (var i = 0; i < node.Macs.Length; i++)
        {
            await ExecAsync("INSERT INTO node_macs (mac, node, position) VALUES (@m, @n, @p)",
                [("@m", node.Macs[i].ToString()), ("@n", node.Name), ("@p", (long)i)]);
        }

        for (var i = 0; i < node.Groups.Length; i++)
        {
            await ExecAsync("INSERT INTO node_groups (node, grp, position) VALUES (@n, @g, @p)",
                [("@n", node.Name), ("@g", node.Groups[i]), ("@p", (long)i)]);
        }
    }

    private async Task<int> ExecAsync(string sql, (string, object?)[] parameters)
    {
        Changed = true;
        try
        {
            return await Sql.ExecuteAsync(_c, _tx, _ct, sql, parameters);
        }
        catch (DbException e) when (_dialect.IsUniqueViolation(e))
        {
            // The checks above name the other node; this is the backstop if a rule was missed.
            throw new InventoryException(InventoryErrorKind.Conflict, $"the change collides with stored data: {e.Message}", e);
        }
    }

    private static string Sample(List<string> names) =>
        string.Join(", ", names.Take(ListInMessage)) + (names.Count > ListInMessage ? $", and {names.Count - ListInMessage} more" : "");
}
