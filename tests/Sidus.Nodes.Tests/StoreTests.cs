using System.Net;
using Microsoft.Data.Sqlite;
using Sidus.Wire.Contracts;

namespace Sidus.Nodes.Tests;

public class StoreTests
{
    private static MacAddress Mac(int i) => new(0x0200_0000_0000UL + (ulong)i);

    private static Node N(string name, int mac, string? ip = null, params string[] groups) =>
        new() { Name = name, Macs = [Mac(mac)], Ip = ip is null ? null : IPAddress.Parse(ip), Groups = [.. groups] };

    [Fact]
    public async Task AddNode_ThenRead_RoundTripsEverything()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddGroupAsync(new Group { Name = "compute", Description = "CPU nodes", Settings = new() { Image = "debian@3" } }));
        var node = new Node
        {
            Name = "Node001",
            Macs = [Mac(1), Mac(2)],
            Ip = IPAddress.Parse("10.0.0.10"),
            Groups = ["compute"],
            Settings = new NodeSettings { Mode = BootMode.Shared, KernelArgs = "quiet", Tags = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("rack", "r1")]) },
        };
        await inv.Store.EditAsync(e => e.AddNodeAsync(node));

        var read = await inv.Store.GetNodeAsync("node001");
        Assert.NotNull(read);
        Assert.Equal("node001", read.Name);
        Assert.Equal([Mac(1), Mac(2)], read.Macs.ToArray());
        Assert.Equal("10.0.0.10", read.Ip!.ToString());
        Assert.Equal(["compute"], read.Groups.ToArray());
        Assert.Equal(BootMode.Shared, read.Settings.Mode);
        Assert.Equal("r1", read.Settings.Tags["rack"]);
        Assert.Equal(1, read.Revision);
        Assert.Equal("node001", (await inv.Store.FindNodeByMacAsync(Mac(2)))!.Name);
        Assert.Null(await inv.Store.FindNodeByMacAsync(Mac(3)));

        var snap = await inv.Store.LoadAsync();
        Assert.Equal("group:compute", snap.Resolve(snap.FindByMac(Mac(1))!).Image.Origin);
    }

    [Fact]
    public async Task AddNode_MacOfOtherNode_ConflictNamesOwner()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var e = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(x => x.AddNodeAsync(N("b", 1))));
        Assert.Equal(InventoryErrorKind.Conflict, e.Kind);
        Assert.Contains("node 'a'", e.Message, StringComparison.Ordinal);
        Assert.Null(await inv.Store.GetNodeAsync("b"));
    }

    [Fact]
    public async Task AddNode_IpOfOtherNode_ConflictNamesOwner()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1, "10.0.0.5")));
        var e = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(x => x.AddNodeAsync(N("b", 2, "10.0.0.5"))));
        Assert.Equal(InventoryErrorKind.Conflict, e.Kind);
        Assert.Contains("node 'a'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNode_UnknownGroup_NotFoundWithHint()
    {
        await using var inv = await TempInventory.CreateAsync();
        var e = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(x => x.AddNodeAsync(N("a", 1, null, "gpu"))));
        Assert.Equal(InventoryErrorKind.NotFound, e.Kind);
        Assert.Contains("sidus group add gpu", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edit_FailsHalfway_NothingStored()
    {
        await using var inv = await TempInventory.CreateAsync();
        var before = await inv.Store.GetVersionAsync();
        await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(async e =>
        {
            await e.AddNodeAsync(N("a", 1));
            await e.AddNodeAsync(N("b", 1));
        }));
        Assert.Empty((await inv.Store.LoadAsync()).Nodes);
        Assert.Equal(before, await inv.Store.GetVersionAsync());
    }

    [Fact]
    public async Task GetVersion_MovesOnEveryCommittedEdit_NotOnBootEvents()
    {
        await using var inv = await TempInventory.CreateAsync();
        var v0 = await inv.Store.GetVersionAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var v1 = await inv.Store.GetVersionAsync();
        Assert.True(v1 > v0);
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Dhcp, DateTimeOffset.UtcNow));
        Assert.Equal(v1, await inv.Store.GetVersionAsync());
        await inv.Store.EditAsync(e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Image = "x" } }));
        Assert.True(await inv.Store.GetVersionAsync() > v1);
        Assert.Equal(await inv.Store.GetVersionAsync(), (await inv.Store.LoadAsync()).Version);
    }

    [Fact]
    public async Task UpdateNode_StaleRevision_Conflict()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var read = (await inv.Store.GetNodeAsync("a"))!;
        await inv.Store.EditAsync(e => e.UpdateNodeAsync(read with { Settings = new() { Image = "first" } }, read.Revision));
        var e = await Assert.ThrowsAsync<InventoryException>(() =>
            inv.Store.EditAsync(x => x.UpdateNodeAsync(read with { Settings = new() { Image = "second" } }, read.Revision)));
        Assert.Equal(InventoryErrorKind.Conflict, e.Kind);
        Assert.Contains("changed by someone else", e.Message, StringComparison.Ordinal);
        Assert.Equal("first", (await inv.Store.GetNodeAsync("a"))!.Settings.Image);
    }

    [Fact]
    public async Task ConcurrentEdits_TwoConnectionsDifferentFields_BothSurvive()
    {
        await using var inv = await TempInventory.CreateAsync();
        await using var second = await inv.OpenSecondAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        const int EditsEach = 40;

        // One writer sets tags t0..t39, the other changes image and kernel args, all at once, each edit a
        // read-modify-write of the whole node: a lost update would drop a tag or an image.
        var inFirst = new TaskCompletionSource();
        var tags = Task.Run(async () =>
        {
            for (var i = 0; i < EditsEach; i++)
            {
                await inv.Store.EditAsync(e => e.EditNodeAsync("a", n =>
                {
                    inFirst.TrySetResult();
                    return n with { Settings = n.Settings with { Tags = n.Settings.Tags.SetItem("t" + i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)) } };
                }));
            }
        });
        await inFirst.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var images = Task.Run(async () =>
        {
            for (var i = 0; i < EditsEach; i++)
            {
                await second.EditAsync(e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Image = "img@" + i, KernelArgs = "k" + i } }));
            }
        });
        await Task.WhenAll(tags, images).WaitAsync(TimeSpan.FromSeconds(120));

        var final = (await inv.Store.GetNodeAsync("a"))!;
        Assert.Equal(EditsEach, final.Settings.Tags.Count);
        Assert.Equal("img@" + (EditsEach - 1), final.Settings.Image);
        Assert.Equal("k" + (EditsEach - 1), final.Settings.KernelArgs);
        Assert.Equal(1 + (2 * EditsEach), final.Revision);
    }

    [Fact]
    public async Task ConcurrentEdits_WriterHoldsTransaction_SecondWaitsAndSeesFirst()
    {
        await using var inv = await TempInventory.CreateAsync();
        await using var second = await inv.OpenSecondAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var firstRead = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = inv.Store.EditAsync(async e =>
        {
            var n = await e.RequireNodeAsync("a");
            firstRead.SetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return await e.UpdateNodeAsync(n with { Settings = n.Settings with { Image = "from-first" } });
        });
        await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Task.Run: the SQLite provider waits for the write lock synchronously.
        var secondEdit = Task.Run(() => second.EditAsync(e => e.EditNodeAsync("a", n => n with { Settings = n.Settings with { Mode = BootMode.Local } })));
        await Task.Delay(300);
        Assert.False(secondEdit.IsCompleted, "the second writer must wait for the first transaction");
        release.SetResult();
        await Task.WhenAll(first, secondEdit).WaitAsync(TimeSpan.FromSeconds(60));

        var final = (await inv.Store.GetNodeAsync("a"))!;
        Assert.Equal("from-first", final.Settings.Image);
        Assert.Equal(BootMode.Local, final.Settings.Mode);
    }

    [Fact]
    public async Task Open_SetsWalAndSchemaVersion()
    {
        await using var inv = await TempInventory.CreateAsync();
        Assert.Equal(9, await inv.Store.GetSchemaVersionAsync());
        await using var c = new SqliteConnection($"Data Source={inv.DbPath};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await cmd.ExecuteScalarAsync());

        // Opening again migrates nothing and keeps the data.
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        await using var again = await inv.OpenSecondAsync();
        Assert.NotNull(await again.GetNodeAsync("a"));
        cmd.CommandText = "SELECT COUNT(*) FROM schema_version";
        // One row per migration (1: the tables, 2: the boot events' image and up report, 3: admin tokens, 4: node
        // credentials, 5: requests to running nodes, 6: disk layouts, 7: installed nodes, 8: their jobs, 9: update
        // excludes); reopening adds none.
        Assert.Equal(9L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Revoke_AndAlarms_InSnapshotAndAccessRecords()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var before = await inv.Store.GetVersionAsync();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        await inv.Store.RevokeCredentialsAsync("a", at);
        Assert.True(await inv.Store.GetVersionAsync() > before, "a revocation must move the change counter (the server reloads on it)");
        Assert.Equal(at, (await inv.Store.LoadAsync()).RevokedAt("a"));
        await Assert.ThrowsAsync<InventoryException>(() => inv.Store.RevokeCredentialsAsync("nobody", at));

        await inv.Store.RecordAccessAlarmAsync("a", "first", at);
        await inv.Store.RecordAccessAlarmAsync("a", "second", at.AddSeconds(1));
        await inv.Store.RecordAccessAlarmAsync("nobody", "ignored", at);
        var record = Assert.Single(await inv.Store.GetAccessRecordsAsync());
        Assert.Equal(new NodeAccessRecord("a", at, at.AddSeconds(1), "second", 2), record);

        // Removing the node removes its record.
        await inv.Store.EditAsync(e => e.RemoveNodeAsync("a"));
        Assert.Empty(await inv.Store.GetAccessRecordsAsync());
    }

    [Fact]
    public async Task Open_SchemaFromNewerSidus_RefusedWithUpgradeHint()
    {
        await using var inv = await TempInventory.CreateAsync();
        await using (var c = new SqliteConnection($"Data Source={inv.DbPath};Pooling=False"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (99, 0)";
            await cmd.ExecuteNonQueryAsync();
        }

        var e = await Assert.ThrowsAsync<InventoryException>(() => inv.OpenSecondAsync());
        Assert.Contains("upgrade sidus", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveGroup_InUse_RefusedUnlessForce()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "compute" });
            await e.AddGroupAsync(new Group { Name = "gpu" });
            await e.AddNodeAsync(N("a", 1, null, "gpu", "compute"));
        });
        var err = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.RemoveGroupAsync("compute", force: false)));
        Assert.Equal(InventoryErrorKind.Conflict, err.Kind);
        Assert.Contains("a", err.Message, StringComparison.Ordinal);
        Assert.Contains("--force", err.Message, StringComparison.Ordinal);

        await inv.Store.EditAsync(e => e.RemoveGroupAsync("compute", force: true));
        var node = (await inv.Store.GetNodeAsync("a"))!;
        Assert.Equal(["gpu"], node.Groups.ToArray());
        Assert.Equal(2, node.Revision);
        Assert.Null((await inv.Store.LoadAsync()).FindGroup("compute"));
    }

    [Fact]
    public async Task Discovered_RegisterTwiceThenAdopt_BecomesNode()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "new" });
            await e.SetNetworkAsync(new NetworkPolicy { Name = "lab", Subnet = "10.0.0.0/24", Unknown = UnknownMachinePolicy.Discover, DefaultGroup = "new" });
        });
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(9), "x64-uefi", t0, "lab", "new"));
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(9), null, t0.AddMinutes(1), "lab", "new"));
        var d = Assert.Single(await inv.Store.ListDiscoveredAsync());
        Assert.Equal(Mac(9), d.Mac);
        Assert.Equal("x64-uefi", d.Architecture);
        Assert.Equal(2, d.TimesSeen);
        Assert.Equal(t0, d.FirstSeen);
        Assert.Equal(t0.AddMinutes(1), d.LastSeen);

        var snap = await inv.Store.LoadAsync();
        Assert.Equal("lab", snap.NetworkFor(IPAddress.Parse("10.0.0.7"))!.Name);
        Assert.Null(snap.NetworkFor(IPAddress.Parse("10.9.0.7")));
        Assert.NotNull(snap.ResolveUnknown(Mac(9), IPAddress.Parse("10.0.0.1")));
        Assert.Null(snap.ResolveUnknown(Mac(9), IPAddress.Parse("192.168.0.1")));

        var node = await inv.Store.AdoptAsync(Mac(9), "node042");
        Assert.Equal(["new"], node.Groups.ToArray());
        Assert.Empty(await inv.Store.ListDiscoveredAsync());
        Assert.Equal("node042", (await inv.Store.FindNodeByMacAsync(Mac(9)))!.Name);
        Assert.Equal(DiscoveryOutcome.IsNode, await inv.Store.RegisterDiscoveredAsync(Mac(9), null, t0));

        var missing = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.AdoptAsync(Mac(10), "x"));
        Assert.Equal(InventoryErrorKind.NotFound, missing.Kind);
    }

    [Fact]
    public async Task Discovered_PastTheLimits_NewMachinesAreNotStoredListedOnesAreUpdated()
    {
        await using var inv = await TempInventory.CreateAsync();
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var limits = new DiscoveryLimits(PerNetwork: 2, Total: 3);

        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(1), null, t0, "lab", null, limits));
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(2), null, t0, "lab", null, limits));
        Assert.Equal(DiscoveryOutcome.NetworkLimit, await inv.Store.RegisterDiscoveredAsync(Mac(3), null, t0, "lab", null, limits));
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(4), null, t0, "rack", null, limits));
        Assert.Equal(DiscoveryOutcome.TotalLimit, await inv.Store.RegisterDiscoveredAsync(Mac(5), null, t0, "rack", null, limits));
        // A machine already listed is still updated at the limit.
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(2), "bios", t0.AddMinutes(1), "lab", null, limits));

        var listed = await inv.Store.ListDiscoveredAsync();
        Assert.Equal(new[] { Mac(1), Mac(2), Mac(4) }, listed.Select(d => d.Mac).ToArray());
        Assert.Equal(2, listed.Single(d => d.Mac == Mac(2)).TimesSeen);

        // Forgetting makes room again.
        Assert.Equal(1, await inv.Store.ForgetDiscoveredAsync([Mac(1), Mac(7)]));
        Assert.Equal(DiscoveryOutcome.Registered, await inv.Store.RegisterDiscoveredAsync(Mac(3), null, t0, "lab", null, limits));
        Assert.Equal(3, await inv.Store.ForgetDiscoveredAsync(null));
        Assert.Empty(await inv.Store.ListDiscoveredAsync());
    }

    [Fact]
    public async Task Network_BootPolicy_ResolvesGroupSettingsAndRoundTrips()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "lab", Settings = new NodeSettings { Image = "debian" } });
            await e.SetNetworkAsync(new NetworkPolicy { Name = "bench", Subnet = "10.1.0.0/16", Unknown = UnknownMachinePolicy.Boot, DefaultGroup = "lab" });
            await e.SetNetworkAsync(new NetworkPolicy { Name = "office", Subnet = "10.1.2.0/24" });
        });

        var snap = await inv.Store.LoadAsync();
        var bench = snap.NetworkFor(IPAddress.Parse("10.1.7.1"))!;
        Assert.Equal((UnknownMachinePolicy.Boot, "boot (group lab)", true), (bench.Unknown, bench.PolicyDescription, bench.BootsUnknown));
        Assert.Equal("debian", snap.ResolveUnknown(Mac(9), IPAddress.Parse("10.1.7.1"))!.Image.Value);
        // The more specific office network (default policy ignore) wins inside its /24: no boot there.
        var office = snap.NetworkFor(IPAddress.Parse("10.1.2.9"))!;
        Assert.Equal(("office", "ignore", false), (office.Name, office.PolicyDescription, office.BootsUnknown));
        Assert.Null(snap.ResolveUnknown(Mac(9), IPAddress.Parse("10.1.2.9")));

        var noGroup = await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.SetNetworkAsync(new NetworkPolicy { Name = "x", Unknown = UnknownMachinePolicy.Boot })));
        Assert.Contains("the boot policy needs a group", noGroup.Message, StringComparison.Ordinal);
        Assert.Equal(UnknownMachinePolicy.Boot, NetworkPolicy.ParsePolicy("Boot"));
        Assert.Contains("use ignore, discover or boot", Assert.Throws<InventoryException>(() => NetworkPolicy.ParsePolicy("group")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BootStatus_LatestBootWithStageTimings()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var t = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var events = new (BootStage Stage, int Seconds)[]
        {
            (BootStage.Dhcp, 0), (BootStage.Up, 50),
            (BootStage.Dhcp, 100), (BootStage.Tftp, 101), (BootStage.Script, 103), (BootStage.Kernel, 104), (BootStage.Up, 130),
        };
        foreach (var (stage, s) in events)
        {
            await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), stage, t.AddSeconds(s), "detail " + s));
        }

        await inv.Store.EditAsync(e => e.AddNodeAsync(N("b", 7)));
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(7), BootStage.Error, t, new string('x', 5000)));

        var status = await inv.Store.GetBootStatusAsync();
        Assert.Equal(2, status.Count);
        var a = status[0];
        Assert.Equal("a", a.Node);
        Assert.Equal(BootStage.Up, a.Latest.Stage);
        Assert.Equal(t.AddSeconds(100), a.Started);
        Assert.Equal([BootStage.Dhcp, BootStage.Tftp, BootStage.Script, BootStage.Kernel, BootStage.Up], a.Stages.Select(s => s.Stage));
        Assert.Equal(TimeSpan.FromSeconds(30), a.Latest.SinceStart);
        Assert.Equal(TimeSpan.FromSeconds(3), a.Stages[2].SinceStart);
        var b = status[1];
        Assert.Equal("b", b.Node);
        Assert.Equal(BootStages.MaxDetailLength, b.Latest.Detail!.Length);

        Assert.Equal(8, await inv.Store.PruneBootEventsAsync(t.AddDays(1)));
        Assert.Empty(await inv.Store.GetBootStatusAsync());
    }

    [Fact]
    public async Task BootStatus_AgentNoteAfterUp_NodeStaysUpAndNoteIsListed()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var t = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        foreach (var (stage, s, detail) in new[] { (BootStage.Dhcp, 0, "d"), (BootStage.Agent, 5, "started"), (BootStage.Up, 20, "up"), (BootStage.Agent, 40, "ram: the root is in RAM") })
        {
            await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), stage, t.AddSeconds(s), detail));
        }

        var a = Assert.Single(await inv.Store.GetBootStatusAsync());
        Assert.Equal(BootStage.Up, a.Latest.Stage);
        Assert.Equal("ram: the root is in RAM", a.Stages[^1].Detail);

        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Error, t.AddSeconds(50), "copy failed"));
        Assert.Equal(BootStage.Error, Assert.Single(await inv.Store.GetBootStatusAsync()).Latest.Stage);
    }

    [Fact]
    public async Task BootStatus_AgentImageAndUpReport_KeptWithTheirStages()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        var t = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var up = new UpReport { Host = "a", Image = "v2", MemTotalKib = 4096, MemAvailableKib = 1024, Boot = 3 };
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Dhcp, t));
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Root, t.AddSeconds(5), "overrides: 3 files (image=v1)") { Image = "v1" });
        var beforeUp = Assert.Single(await inv.Store.GetBootStatusAsync());
        Assert.Equal("v1", beforeUp.Image);
        Assert.Null(beforeUp.Up);

        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Up, t.AddSeconds(9), up.Detail()) { Up = up });
        var a = Assert.Single(await inv.Store.GetBootStatusAsync());
        Assert.Equal(up, a.Up);
        Assert.Equal("v2", a.Image);
        Assert.Equal(up.Detail(), a.Latest.Detail);
        Assert.Equal("v1", a.Stages[1].Image);
    }

    [Fact]
    public async Task RecordBootEvent_MacOfNoNode_NotStored()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        Assert.False(await inv.Store.RecordBootEventAsync(new BootEvent(Mac(9), BootStage.Up, DateTimeOffset.UtcNow, "pwned")));
        Assert.True(await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Dhcp, DateTimeOffset.UtcNow)));
        Assert.Equal(1, await inv.Store.CountBootEventsAsync());
        Assert.Equal("a", Assert.Single(await inv.Store.GetBootStatusAsync()).Node);
    }

    [Fact]
    public async Task RecordBootEvent_ControlCharacters_StoredAsQuestionMarks()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        const string Hostile = "ok\u001b[2J\u001b]0;owned\u0007\r\nline2\u009b31m\u202eevil\u0000";
        var up = new UpReport { Host = "h\u001b[31m", SshEd25519 = "SHA256:\u001b[1mfake", Image = "v\u0085" };
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Up, DateTimeOffset.UtcNow, Hostile) { Up = up, Image = "i\u001b" });

        var s = Assert.Single(await inv.Store.GetBootStatusAsync());
        Assert.Equal("ok?[2J?]0;owned?  line2?31m?evil?", s.Latest.Detail);
        Assert.Equal("h?[31m", s.Up!.Host);
        Assert.Equal("SHA256:?[1mfake", s.Up.SshEd25519);
        Assert.Equal("v?", s.Up.Image);
        Assert.Equal("i?", s.Latest.Image);
    }

    [Fact]
    public async Task RecordBootEvent_ManyForOneNode_KeepsTheNewestPerMachine()
    {
        await using var inv = await TempInventory.CreateAsync();
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("a", 1)));
        await inv.Store.EditAsync(e => e.AddNodeAsync(N("b", 2)));
        var limits = new BootEventLimits { PerMachine = 10 };
        var t = DateTimeOffset.UtcNow;
        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(2), BootStage.Dhcp, t), limits);
        for (var i = 0; i < 50; i++)
        {
            await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Agent, t.AddSeconds(i), "n" + i), limits);
        }

        Assert.Equal(11, await inv.Store.CountBootEventsAsync());
        var a = (await inv.Store.GetBootStatusAsync()).Single(s => s.Node == "a");
        Assert.Equal(10, a.Stages.Count);
        Assert.Equal("n49", a.Latest.Detail);
        Assert.Equal("n40", a.Stages[0].Detail);
    }

    [Fact]
    public async Task TrimBootEvents_DropsTheOldAndTheOldestBeyondTheTotal()
    {
        await using var inv = await TempInventory.CreateAsync();
        var now = DateTimeOffset.UtcNow;
        for (var n = 1; n <= 5; n++)
        {
            await inv.Store.EditAsync(e => e.AddNodeAsync(N("n" + n, n)));
            for (var i = 0; i < 4; i++)
            {
                await inv.Store.RecordBootEventAsync(new BootEvent(Mac(n), BootStage.Agent, now.AddMinutes(-n * 10 + i)));
            }
        }

        await inv.Store.RecordBootEventAsync(new BootEvent(Mac(1), BootStage.Agent, now.AddDays(-40)));
        var limits = new BootEventLimits { Total = 12, MaxAge = TimeSpan.FromDays(30) };
        Assert.Equal(10, await inv.Store.TrimBootEventsAsync(limits, now));
        Assert.Equal(11, await inv.Store.CountBootEventsAsync());
        Assert.Equal(0, await inv.Store.TrimBootEventsAsync(limits, now));
    }

    [Fact]
    public async Task AdminTokens_StoredHashedFoundByTheirSecretRevoked()
    {
        await using var inv = await TempInventory.CreateAsync();
        var now = DateTimeOffset.UtcNow;
        var v0 = await inv.Store.GetVersionAsync();
        var (token, secret) = await inv.Store.EditAsync(e => e.AddAdminTokenAsync("CI", now, now.AddHours(1)));
        var (_, other) = await inv.Store.EditAsync(e => e.AddAdminTokenAsync("ops", now, null));
        Assert.True(await inv.Store.GetVersionAsync() > v0);
        Assert.Equal("ci", token.Name);
        Assert.StartsWith(Access.AdminTokenSecret.Prefix, secret, StringComparison.Ordinal);
        Assert.Equal(Access.AdminTokenSecret.Prefix.Length + 43, secret.Length);
        Assert.NotEqual(secret, other);

        // The database holds the hash, never the secret.
        foreach (var file in Directory.GetFiles(inv.Directory))
        {
            Assert.DoesNotContain(secret[6..], System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);
        }

        var snap = await inv.Store.LoadAsync();
        Assert.Equal(["ci", "ops"], snap.AdminTokens.Select(t => t.Name));
        Assert.Equal("ci", Access.AdminTokenSecret.Find(secret, snap.AdminTokens)!.Name);
        Assert.Equal("ops", Access.AdminTokenSecret.Find(other, snap.AdminTokens)!.Name);
        Assert.Null(Access.AdminTokenSecret.Find(secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A'), snap.AdminTokens));
        Assert.Null(Access.AdminTokenSecret.Find("", snap.AdminTokens));
        Assert.False(snap.AdminTokens[0].IsExpired(now.AddMinutes(59)));
        Assert.True(snap.AdminTokens[0].IsExpired(now.AddMinutes(61)));

        await inv.Store.TouchAdminTokenAsync("ci", now.AddMinutes(1));
        Assert.Equal(now.AddMinutes(1).ToUnixTimeMilliseconds(), (await inv.Store.ListAdminTokensAsync())[0].LastUsed!.Value.ToUnixTimeMilliseconds());

        Assert.Equal(InventoryErrorKind.Conflict, (await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.AddAdminTokenAsync("ci", now, null)))).Kind);
        Assert.Equal(InventoryErrorKind.Invalid, (await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.AddAdminTokenAsync("a b", now, null)))).Kind);
        await inv.Store.EditAsync(e => e.RemoveAdminTokenAsync("ci"));
        Assert.Null(Access.AdminTokenSecret.Find(secret, (await inv.Store.LoadAsync()).AdminTokens));
        Assert.Equal(InventoryErrorKind.NotFound, (await Assert.ThrowsAsync<InventoryException>(() => inv.Store.EditAsync(e => e.RemoveAdminTokenAsync("ci")))).Kind);
    }
}
