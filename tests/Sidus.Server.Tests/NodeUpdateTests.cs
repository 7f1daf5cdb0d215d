using System.Diagnostics;
using System.Net;
using System.Text;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Store;
using Sidus.Store.Checkout;
using Sidus.Store.Sync;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// Issue 9, updating: the real agent (`sidus-agent update --root DIR`, sidus-agent.dll) brings a plain directory from
/// version 1 to version 2 of a live server over loopback, checked by rsync (-naHAXc, as a peer) against checkouts of
/// each version; drift reported then overwritten or kept; excludes and --no-delete honoured; a dry run changes
/// nothing; a damaged content is refused with nothing half-written; an agent killed mid-update leaves old-or-new
/// files and the next run completes it.
/// </summary>
public sealed class NodeUpdateTests : IAsyncLifetime
{
    private static readonly string Mac = ServerFixture.Mac(9).ToString();
    private string _home = Path.Combine(Path.GetTempPath(), "sidus-update-" + Guid.NewGuid().ToString("N")[..12]);
    private SidusServer _server = null!;
    private string _v1 = "", _v2 = "", _token = "";

    private string Http => $"http://127.0.0.1:{_server.HttpEndpoint.Port}";

    private string Root => Path.Combine(_home, "node");

    private string Ref(int n) => Path.Combine(_home, "ref" + n);

    public async Task InitializeAsync() => await SetUpAsync(bigFiles: 0);

    private async Task SetUpAsync(int bigFiles, bool damageV2 = false)
    {
        Directory.CreateDirectory(_home);
        var v1 = Path.Combine(_home, "src1");
        var v2 = Path.Combine(_home, "src2");
        MakeTree(v1, version: 1, bigFiles: 0);
        MakeTree(v2, version: 2, bigFiles);
        using (var repository = Repository.Open(_home))
        {
            var images = new ImageStore(repository);
            _v1 = images.ImportDirectory("deb", v1, "v1", null, CancellationToken.None).Id.ToString();
            _v2 = images.ImportDirectory("deb", v2, "v2", null, CancellationToken.None).Id.ToString();
            TreeSync.Checkout(repository, Sidus.Store.Objects.ObjectId.Parse(_v1), Ref(1), new CheckoutOptions(), CancellationToken.None);
            TreeSync.Checkout(repository, Sidus.Store.Objects.ObjectId.Parse(_v2), Ref(2), new CheckoutOptions(), CancellationToken.None);
        }

        if (damageV2)
        {
            // The newest pack holds what version 2 added: one byte of it flipped.
            var pack = new DirectoryInfo(Path.Combine(_home, "store", "packs")).GetFiles("*.pack").OrderBy(f => f.LastWriteTimeUtc).Last();
            await using var stream = new FileStream(pack.FullName, FileMode.Open, FileAccess.ReadWrite);
            stream.Position = pack.Length / 2;
            var b = stream.ReadByte();
            stream.Position = pack.Length / 2;
            stream.WriteByte((byte)(b ^ 0x55));
        }

        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            _token = (await inventory.EditAsync(e => e.AddAdminTokenAsync("update-tests", DateTimeOffset.UtcNow, null))).Secret;
            await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "n9", Macs = [ServerFixture.Mac(9)], Settings = new NodeSettings { Image = "deb" } }));
        }

        await File.WriteAllTextAsync(Path.Combine(_home, "token"), _token);
        _server = await ServerFixture.StartHttpOnlyAsync(_home);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    /// <summary>A small root: text, a random 1 MB binary, symlinks, a hard link, a kernel, users' and the node's own files.</summary>
    private static void MakeTree(string root, int version, int bigFiles)
    {
        void Put(string path, string text)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }

        Put("etc/os-release", $"NAME=Test\nVERSION={version}\n");
        Put("etc/motd", "welcome\n");
        Put("etc/hostname", "image\n");
        Put("home/user/notes", $"image notes {version}\n");
        Put("var/log/syslog", "");
        Put("var/lib/dpkg/status", $"Package: test\nVersion: {version}\n");
        Put("usr/share/doc/readme", string.Concat(Enumerable.Repeat("documentation line\n", 2000)));
        Put(version == 1 ? "usr/share/old" : "usr/share/new", "only in v" + version + "\n");
        Put($"boot/vmlinuz-6.1.0-{version}", "kernel " + version);
        for (var i = 0; i < 20; i++)
        {
            Put($"usr/lib/python/m{i}.py", $"# module {i}\n" + string.Concat(Enumerable.Repeat($"x{i} = {i * version}\n", 200)));
        }

        var random = new Random(version);
        var bin = new byte[1 << 20];
        random.NextBytes(bin);
        File.WriteAllBytes(Path.Combine(root, "usr/lib/libbig.so"), version == 1 ? bin : [.. bin[..^100], .. new byte[100]]);
        for (var i = 0; i < bigFiles; i++)
        {
            var data = new byte[4 << 20];
            new Random(100 + i).NextBytes(data);
            File.WriteAllBytes(Path.Combine(root, $"usr/lib/blob{i}.bin"), data);
        }

        File.CreateSymbolicLink(Path.Combine(root, "usr/lib/libbig.so.1"), version == 1 ? "libbig.so" : "libbig.so");
        File.CreateSymbolicLink(Path.Combine(root, "etc/alias"), version == 1 ? "motd" : "os-release");
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        File.WriteAllText(Path.Combine(root, "usr/bin/tool"), "#!/bin/sh\necho " + version + "\n");
        File.SetUnixFileMode(Path.Combine(root, "usr/bin/tool"), (UnixFileMode)Convert.ToInt32("755", 8));
        Assert.Equal(0, Syscall("ln", Path.Combine(root, "usr/bin/tool"), Path.Combine(root, "usr/bin/tool2")));
    }

    private static int Syscall(string program, params string[] args)
    {
        using var p = Process.Start(program, args);
        p.WaitForExit();
        return p.ExitCode;
    }

    private async Task<Tools.Result> AgentAsync(params string[] args)
    {
        var agentDll = Path.Combine(AppContext.BaseDirectory, "sidus-agent.dll");
        return await Tools.RunAsync("dotnet", [agentDll, .. args], TimeSpan.FromSeconds(120));
    }

    private Task<Tools.Result> UpdateAsync(params string[] extra) =>
        AgentAsync(["update", "--root", Root, "--server", Http, "--token-file", Path.Combine(_home, "token"), .. extra]);

    /// <summary>What rsync (checksums, hard links, ACLs, xattrs) would change in the node's root to make it REF: nothing, apart from EXCLUDE.</summary>
    private async Task<string> RsyncDifferencesAsync(string reference, params string[] exclude)
    {
        var run = await Tools.RunAsync("rsync", ["-naHAXc", "--delete", "-i", "--exclude=/var/lib/sidus", .. exclude.Select(e => "--exclude=" + e), reference + "/", Root + "/"]);
        Assert.True(run.ExitCode == 0, run.Err);
        return run.Text.Trim();
    }

    [Fact]
    public async Task Update_V1ThenV2_RootEqualsEachVersion_DriftReportedThenOverwritten_NoOpMovesLittle()
    {
        var first = await UpdateAsync("--to", _v1, "--json");
        Assert.True(first.ExitCode == 0, first.Text + first.Err);
        Assert.Equal("", await RsyncDifferencesAsync(Ref(1)));
        var install = NodeUpdateResult.FromJson(first.Text);
        Assert.False(install.DriftKnown);
        Assert.True(install.Created > 30, first.Text);
        Assert.Equal($"{_v1} ?\n", await File.ReadAllTextAsync(Path.Combine(Root, "var/lib/sidus/version")));

        var noop = NodeUpdateResult.FromJson((await UpdateAsync("--to", _v1, "--json")).Text);
        Assert.Equal((0, 0, 0), (noop.Created, noop.Updated, noop.Deleted));
        Assert.True(noop.DriftKnown);
        Assert.Empty(noop.Drift);
        Assert.True(noop.BytesReceived < 20_000, $"a no-op fetched {noop.BytesReceived} bytes");

        // Local changes since: reported by `drift`, then by the update before it overwrites them.
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/motd"), "changed here\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/added"), "mine\n");
        File.Delete(Path.Combine(Root, "usr/lib/python/m3.py"));
        File.SetUnixFileMode(Path.Combine(Root, "usr/bin/tool"), (UnixFileMode)Convert.ToInt32("700", 8));
        await File.WriteAllTextAsync(Path.Combine(Root, "var/log/syslog"), "the node's own log\n");
        var drift = await AgentAsync("drift", "--root", Root);
        Assert.Equal(0, drift.ExitCode);
        Assert.Equal("modified /etc/motd|added    /etc/added|removed  /usr/lib/python/m3.py|metadata /usr/bin/tool|metadata /usr/bin/tool2".Split('|').Order(),
            drift.Text.Split('\n').Where(l => l.StartsWith("modified", StringComparison.Ordinal) || l.StartsWith("added", StringComparison.Ordinal) ||
                                              l.StartsWith("removed", StringComparison.Ordinal) || l.StartsWith("metadata", StringComparison.Ordinal)).Order());

        // No --to: the version the server says this node should run (its image's head, version 2). The node's
        // override files (here /etc/issue, as the overrides wrote it) are its own: neither drift nor deleted.
        Directory.CreateDirectory(Path.Combine(_home, "overrides/global/etc"));
        await File.WriteAllTextAsync(Path.Combine(_home, "overrides/global/etc/issue"), "from the overrides\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/issue"), "from the overrides\n");
        Directory.CreateDirectory(Path.Combine(Root, "etc/sidus"));
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/sidus/agent.conf"), new InstalledNode.Settings(Http, Mac, "n9").Format());
        var update = await AgentAsync("update", "--root", Root, "--token-file", Path.Combine(_home, "token"));
        Assert.True(update.ExitCode == 0, update.Text + update.Err);
        Assert.Contains("drift modified /etc/motd", update.Text, StringComparison.Ordinal);
        Assert.Contains($"matches deb@2 ({_v2[..12]}), was ?", update.Text, StringComparison.Ordinal);
        Assert.Contains("drift: 5 paths overwritten", update.Text, StringComparison.Ordinal);
        Assert.Contains("reboot needed: the kernel changed", update.Text, StringComparison.Ordinal);
        Assert.Equal("", await RsyncDifferencesAsync(Ref(2), "/var/log", "/etc/hostname", "/home", "/etc/sidus", "/etc/issue"));
        Assert.Equal("the node's own log\n", await File.ReadAllTextAsync(Path.Combine(Root, "var/log/syslog")));
        Assert.Equal("from the overrides\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/issue")));
        Assert.DoesNotContain("/etc/issue", update.Text, StringComparison.Ordinal);
        Assert.Equal("image notes 1\n", await File.ReadAllTextAsync(Path.Combine(Root, "home/user/notes")));
        Assert.Equal($"{_v2} deb@2\n", await File.ReadAllTextAsync(Path.Combine(Root, "var/lib/sidus/version")));
        Assert.Empty(Directory.GetFiles(Root, ".sidus-*", SearchOption.AllDirectories));
    }

    /// <summary>
    /// `sidus node update` and `sidus node drift` end to end without a VM: the node's key (issued to a session as
    /// the install asks for it), the real agent service on a plain directory, the real CLI giving the job through the
    /// inventory; the result shown, the override layer written again and left out of the drift, the node recorded
    /// at the new version.
    /// </summary>
    [Fact]
    public async Task NodeUpdateAndDrift_ThroughTheAgentService_WithTheNodesKey()
    {
        var keyFile = await InstallWithKeyAsync();
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/motd"), "changed here\n");

        var agent = await AgentServiceProcess.StartAsync(Root, Http, Mac, keyFile);
        try
        {
            var drift = await Tools.SidusAsync(_home, "node", "drift", "n9", "--wait", "60");
            Assert.True(drift.ExitCode == 0, drift.Text + drift.Err + agent.Said);
            Assert.Contains("n9: 1 changed since", drift.Text, StringComparison.Ordinal);
            Assert.Contains("modified /etc/motd", drift.Text, StringComparison.Ordinal);

            var dry = await Tools.SidusAsync(_home, "node", "update", "n9", "--to", "deb@2", "--dry-run", "--wait", "60");
            Assert.True(dry.ExitCode == 0, dry.Text + dry.Err + agent.Said);
            Assert.Contains("n9: dry run,", dry.Text, StringComparison.Ordinal);
            Assert.Equal("changed here\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/motd")));

            var run = await Tools.SidusAsync(_home, "node", "update", "n9", "--to", "deb@2", "--json", "--wait", "60");
            Assert.True(run.ExitCode == 0, run.Text + run.Err + agent.Said);
            var outcome = System.Text.Json.JsonDocument.Parse(run.Text).RootElement[0];
            Assert.True(outcome.GetProperty("succeeded").GetBoolean(), run.Text);
            var result = NodeUpdateResult.FromJson(outcome.GetProperty("result").GetRawText());
            Assert.Equal(_v2, result.Version);
            Assert.Equal("deb@2", result.Ref);
            Assert.Contains(result.Drift, d => d.Path == "/etc/motd");
            Assert.DoesNotContain(result.Drift, d => d.Path.StartsWith("/etc/systemd", StringComparison.Ordinal));
            Assert.True(result.Created > 0 && result.Deleted > 0, run.Text);
            // The layer's directories the image lacks hold only excluded files: rsync says it would not delete them.
            var differences = await ServiceRsyncDifferencesAsync(Ref(2));
            Assert.True(differences.Count == 0, string.Join("\n", differences));
            Assert.Equal("n9\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/hostname")));
            Assert.True(File.Exists(Path.Combine(Root, "etc/systemd/system/sidus-agent.service")), "the override layer was not written again");

            var statusRun = await Tools.SidusAsync(_home, "node", "status", "n9", "--json");
            var installed = System.Text.Json.JsonDocument.Parse(statusRun.Text).RootElement[0].GetProperty("installed");
            Assert.Equal("deb@2", installed.GetProperty("imageRef").GetString());
            Assert.NotNull(installed.GetProperty("updatedAt").GetString());

            var clean = await Tools.SidusAsync(_home, "node", "drift", "n9", "--wait", "60");
            Assert.True(clean.Text.Contains("n9: no drift since deb@2", StringComparison.Ordinal), clean.Text + clean.Err);

            // Not installed, or another image: refused before any node is asked.
            var other = await Tools.SidusAsync(_home, "node", "update", "n9", "--to", "nosuch@1");
            Assert.Equal(2, other.ExitCode);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    /// <summary>
    /// Excludes by image and by group, end to end: the version's /etc/sidus/update.exclude and a group's update
    /// excludes reach the node's job through `sidus node update` (the dry run and --json say where each came from);
    /// the node's files under them keep their contents while the rest of the root becomes the version; the agent
    /// records them, so the next drift check leaves them out.
    /// </summary>
    [Fact]
    public async Task NodeUpdate_ImageAndGroupExcludes_LeaveTheirFilesAlone_TheRestUpdated()
    {
        // Version 3: a tree like version 2's, files under the two directories to keep, and the image's own list.
        var src3 = Path.Combine(_home, "src3");
        MakeTree(src3, version: 3, bigFiles: 0);
        foreach (var (path, text) in new[]
        {
            ("etc/sidus/update.exclude", "# the node's own models\n\n/opt/models\n"), ("opt/models/weights", "image 3\n"), ("srv/site/config", "image 3\n"),
        })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(src3, path))!);
            await File.WriteAllTextAsync(Path.Combine(src3, path), text);
        }

        string v3;
        using (var repository = Repository.Open(_home))
        {
            v3 = new ImageStore(repository).ImportDirectory("deb", src3, "v3", null, CancellationToken.None).Id.ToString();
            TreeSync.Checkout(repository, Sidus.Store.Objects.ObjectId.Parse(v3), Ref(3), new CheckoutOptions(), CancellationToken.None);
        }

        var keyFile = await InstallWithKeyAsync(async e =>
        {
            await e.AddGroupAsync(new Group { Name = "keepers", Settings = new NodeSettings { UpdateExcludes = ["/srv/site"] } });
            await e.EditNodeAsync("n9", n => n with { Groups = ["keepers"] });
        });
        string[] nodesOwn = ["opt/models/weights", "srv/site/config"];
        foreach (var path in nodesOwn)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Root, path))!);
            await File.WriteAllTextAsync(Path.Combine(Root, path), "the node's own\n");
        }

        var agent = await AgentServiceProcess.StartAsync(Root, Http, Mac, keyFile);
        try
        {
            var dry = await Tools.SidusAsync(_home, "node", "update", "n9", "--to", "deb@3", "--dry-run", "--wait", "60");
            Assert.True(dry.ExitCode == 0, dry.Text + dry.Err + agent.Said);
            Assert.Contains("  excluded /opt/models (image deb@3)", dry.Text, StringComparison.Ordinal);
            Assert.Contains("  excluded /srv/site (group:keepers)", dry.Text, StringComparison.Ordinal);

            var run = await Tools.SidusAsync(_home, "node", "update", "n9", "--to", "deb@3", "--json", "--wait", "60");
            Assert.True(run.ExitCode == 0, run.Text + run.Err + agent.Said);
            var outcome = System.Text.Json.JsonDocument.Parse(run.Text).RootElement[0];
            Assert.True(outcome.GetProperty("succeeded").GetBoolean(), run.Text);
            Assert.Equal(
                [("/opt/models", "image deb@3"), ("/srv/site", "group:keepers")],
                outcome.GetProperty("excludes").EnumerateArray().Select(x => (x.GetProperty("path").GetString(), x.GetProperty("from").GetString())));
            Assert.Equal(v3, NodeUpdateResult.FromJson(outcome.GetProperty("result").GetRawText()).Version);

            // Left alone: the node's own contents under both. Everything else: version 3.
            foreach (var path in nodesOwn)
            {
                Assert.Equal("the node's own\n", await File.ReadAllTextAsync(Path.Combine(Root, path)));
            }

            Assert.Equal("NAME=Test\nVERSION=3\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/os-release")));
            var differences = await ServiceRsyncDifferencesAsync(Ref(3), "/opt/models", "/srv/site");
            Assert.True(differences.Count == 0, string.Join("\n", differences));

            // The agent recorded them with its sync: a change under them since is no drift.
            var recorded = (await File.ReadAllTextAsync(Path.Combine(Root, InstalledNode.ExcludesFile.TrimStart('/')))).Split('\n');
            Assert.Contains("/opt/models", recorded);
            Assert.Contains("/srv/site", recorded);
            await File.WriteAllTextAsync(Path.Combine(Root, "srv/site/config"), "changed again\n");
            var drift = await Tools.SidusAsync(_home, "node", "drift", "n9", "--wait", "60");
            Assert.True(drift.Text.Contains("n9: no drift since deb@3", StringComparison.Ordinal), drift.Text + drift.Err + agent.Said);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    /// <summary>
    /// What rsync would change to make the node's root REF once the agent service has synced it: nothing, apart from
    /// EXCLUDE, the node's own files and the override layer the service writes after the sync.
    /// </summary>
    private async Task<List<string>> ServiceRsyncDifferencesAsync(string reference, params string[] exclude) =>
        [.. (await RsyncDifferencesAsync(reference, ["/var/log", "/etc/hostname", "/home", "/etc/sidus", "/etc/hosts", "/etc/machine-id", "/etc/ssh",
                "/etc/systemd/system", "/etc/systemd/network", "/etc/default/grub.d", .. exclude])).Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith("cannot delete non-empty directory: etc/", StringComparison.Ordinal))
            .Where(l => l != ".d..t...... etc/")]; // the layer's files, written after the sync, moved /etc's time

    /// <summary>
    /// n9 in mode install, recorded installed at version 1, with its own key (as the install asks for it) and its root
    /// synced to version 1 by the agent with that key; the key's file.
    /// </summary>
    private async Task<string> InstallWithKeyAsync(Func<InventoryEdit, Task>? alsoEdit = null)
    {
        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(e => e.EditNodeAsync("n9", n => n with { Ip = IPAddress.Loopback, Settings = n.Settings with { Mode = BootMode.Install } }));
            if (alsoEdit is not null)
            {
                await inventory.EditAsync(alsoEdit);
            }

            await inventory.RecordInstalledAsync("n9", _v1, "deb@1", DateTimeOffset.UtcNow, updated: false);
        }

        var view = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Sidus.Server.Inventory.InventoryView>(_server.Services);
        await Tools.EventuallyAsync(() => Task.FromResult(view.Current.Installed("n9") is not null), TimeSpan.FromSeconds(10), "the server reading the install");
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(9), _v1);
        var (status, key, _) = await Tools.CurlAsync(Http + InstallPlan.Key(Mac), [.. NodeSessions.Bearer(session), "-X", "POST", "--data", ""]);
        Assert.True(status == 200, Encoding.UTF8.GetString(key));
        var keyFile = Path.Combine(_home, "node.key");
        await File.WriteAllBytesAsync(keyFile, key);
        Assert.True((await AgentAsync("update", "--root", Root, "--server", Http, "--token-file", keyFile, "--to", _v1)).ExitCode == 0);
        return keyFile;
    }

    [Fact]
    public async Task Update_KeepDrift_NoDelete_Exclude_DryRun()
    {
        Assert.Equal(0, (await UpdateAsync("--to", _v1)).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/motd"), "changed here\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "etc/added"), "mine\n");

        // A dry run lists every change and changes nothing.
        var before = await RsyncDifferencesAsync(Ref(1));
        var dry = await UpdateAsync("--to", _v2, "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.Text + dry.Err);
        Assert.Contains("create   /usr/share/new", dry.Text, StringComparison.Ordinal);
        Assert.Contains("delete   /usr/share/old", dry.Text, StringComparison.Ordinal);
        Assert.Contains("update   /usr/lib/libbig.so", dry.Text, StringComparison.Ordinal);
        Assert.Contains("would match", dry.Text, StringComparison.Ordinal);
        Assert.Equal(before, await RsyncDifferencesAsync(Ref(1)));
        Assert.Equal($"{_v1} ?\n", await File.ReadAllTextAsync(Path.Combine(Root, "var/lib/sidus/version")));

        var kept = await UpdateAsync("--to", _v2, "--keep-drift", "--no-delete", "--exclude", "/usr/lib/python/*", "--json");
        Assert.True(kept.ExitCode == 0, kept.Text + kept.Err);
        var result = NodeUpdateResult.FromJson(kept.Text);
        Assert.True(result.DriftKept);
        Assert.Equal(["/etc/added", "/etc/motd"], result.Drift.Select(d => d.Path));
        Assert.Equal("changed here\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/motd")));
        Assert.Equal("mine\n", await File.ReadAllTextAsync(Path.Combine(Root, "etc/added")));
        Assert.True(File.Exists(Path.Combine(Root, "usr/share/old")), "--no-delete deleted a file");
        Assert.Contains("x1 = 1\n", await File.ReadAllTextAsync(Path.Combine(Root, "usr/lib/python/m1.py")), StringComparison.Ordinal);
        Assert.Equal("", await RsyncDifferencesAsync(Ref(2), "/etc/motd", "/etc/added", "/usr/share/old", "/boot/vmlinuz-6.1.0-1", "/usr/lib/python/*", "/var/log", "/etc/hostname", "/home"));

        // The next update, without those options, still sees the kept drift and now overwrites it.
        var full = NodeUpdateResult.FromJson((await UpdateAsync("--to", _v2, "--json")).Text);
        Assert.Contains(full.Drift, d => d.Path == "/etc/motd");
        Assert.Equal("", await RsyncDifferencesAsync(Ref(2), "/var/log", "/etc/hostname", "/home"));
    }

    [Fact]
    public async Task Update_BadUsageOrCredential_ClearMessages()
    {
        var help = await AgentAsync("update", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.All(help.Text.Split('\n'), line => Assert.True(line.Length <= 80, line));
        Assert.Contains("--keep-drift", help.Text, StringComparison.Ordinal);
        var unknown = await AgentAsync("update", "--frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown option '--frobnicate'", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(2, (await AgentAsync("update", "--exclude", "relative/path")).ExitCode);
        var noServer = await AgentAsync("update", "--root", Root);
        Assert.Equal(1, noServer.ExitCode);
        Assert.Contains("no server: give --server URL", noServer.Err, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_home, "bad"), "sidus-adm-nothing");
        var refused = await AgentAsync("update", "--root", Root, "--server", Http, "--token-file", Path.Combine(_home, "bad"), "--to", _v1);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("the server answered 40", refused.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Root, "etc")));
    }

    /// <summary>Starts again with a store whose version 2 adds BIGFILES files of 4 MiB, its newest pack damaged when DAMAGE.</summary>
    private async Task RestartAsync(int bigFiles, bool damage)
    {
        await DisposeAsync();
        _home = Path.Combine(Path.GetTempPath(), "sidus-update-" + Guid.NewGuid().ToString("N")[..12]);
        await SetUpAsync(bigFiles, damage);
    }

    /// <summary>
    /// After a failed or killed update: every path where the root differs from version 1 holds version 2's file (no
    /// file is half-written or a mix), no temporary file is left, the version file still says version 1.
    /// </summary>
    private async Task AssertOldOrNewAsync()
    {
        var differences = await RsyncDifferencesAsync(Ref(1), "/var/log", "/etc/hostname", "/home");
        foreach (var line in differences.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..].Trim();
            path = path.Split(" -> ")[0].Split(" => ")[0];
            var node = Path.Combine(Root, path);
            var v2 = Path.Combine(Ref(2), path);
            if (line.StartsWith("*deleting", StringComparison.Ordinal) || Directory.Exists(node))
            {
                Assert.True(Path.Exists(v2), $"{path}: neither version 1's nor version 2's");
                continue;
            }

            bool Same(string version) => new FileInfo(node).LinkTarget is { } link
                ? link == new FileInfo(version).LinkTarget
                : File.Exists(version) && File.ReadAllBytes(node).AsSpan().SequenceEqual(File.ReadAllBytes(version));
            Assert.True(Same(v2) || Same(Path.Combine(Ref(1), path)), $"{path} is neither version 1's nor version 2's ({line})");
        }

        Assert.Empty(Directory.GetFiles(Root, ".sidus-*", SearchOption.AllDirectories));
        Assert.Equal($"{_v1} ?\n", await File.ReadAllTextAsync(Path.Combine(Root, "var/lib/sidus/version")));
    }

    private async Task CompleteAsync()
    {
        var rerun = await UpdateAsync("--to", _v2, "--json");
        Assert.True(rerun.ExitCode == 0, rerun.Text + rerun.Err);
        Assert.False(NodeUpdateResult.FromJson(rerun.Text).DriftKnown);
        Assert.Equal("", await RsyncDifferencesAsync(Ref(2), "/var/log", "/etc/hostname", "/home"));
        Assert.Empty(Directory.GetFiles(Root, ".sidus-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Update_DamagedContent_RefusedNothingHalfWritten()
    {
        await RestartAsync(bigFiles: 4, damage: true);
        Assert.Equal(0, (await UpdateAsync("--to", _v1)).ExitCode);
        var failed = await UpdateAsync("--to", _v2);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("sidus-agent update: FAILED: ", failed.Err, StringComparison.Ordinal);
        Assert.Contains("the server answered 500", failed.Err, StringComparison.Ordinal);
        // The node names the file the damaged content is, and the admin's next step.
        Assert.Matches(@"\(/usr/lib/blob\d\.bin among them\): content [0-9a-f]{64} of \d+ contents of [0-9a-f]{12} is damaged on the server: ", failed.Err);
        Assert.Contains("Run 'sidus store verify' on the server", failed.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Root, "usr/lib/blob0.bin")));
        await AssertOldOrNewAsync();
    }

    [Fact]
    public async Task Update_ServerGoneMidTransfer_FailsClearly_FilesOldOrNew_NextRunCompletes()
    {
        await RestartAsync(bigFiles: 24, damage: false);
        Assert.Equal(0, (await UpdateAsync("--to", _v1)).ExitCode);
        Tools.Result cut;
        using (var proxy = new CutProxy(_server.HttpEndpoint, limit: 40 << 20, stall: false))
        {
            cut = await AgentAsync("update", "--root", Root, "--server", proxy.Url, "--token-file", Path.Combine(_home, "token"), "--to", _v2);
            Assert.True(cut.ExitCode == 1, cut.Text + cut.Err);
            Assert.Contains("sidus-agent update: FAILED: ", cut.Err, StringComparison.Ordinal);
            Assert.True(proxy.Tripped);
        }

        var written = Directory.GetFiles(Path.Combine(Root, "usr/lib"), "blob*.bin").Length;
        Assert.True(written is > 0 and < 24, $"{written} of 24 new files written before the cut: not mid-transfer\n{cut.Err}");
        await AssertOldOrNewAsync();
        await CompleteAsync();
    }

    [Fact]
    public async Task Update_AgentKilledMidUpdate_FilesOldOrNew_NextRunCompletes()
    {
        await RestartAsync(bigFiles: 24, damage: false);
        Assert.Equal(0, (await UpdateAsync("--to", _v1)).ExitCode);
        using (var proxy = new CutProxy(_server.HttpEndpoint, limit: 40 << 20, stall: true))
        {
            var agentDll = Path.Combine(AppContext.BaseDirectory, "sidus-agent.dll");
            using var agent = Process.Start(new ProcessStartInfo("dotnet",
                [agentDll, "update", "--root", Root, "--server", proxy.Url, "--token-file", Path.Combine(_home, "token"), "--to", _v2])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            agent.BeginErrorReadLine();
            agent.BeginOutputReadLine();
            await Tools.EventuallyAsync(() => Task.FromResult(proxy.Tripped || agent.HasExited), TimeSpan.FromSeconds(60), "the update half done");
            await Task.Delay(500);
            Assert.False(agent.HasExited, "the update ended before it was killed");
            agent.Kill(); // SIGKILL
            await agent.WaitForExitAsync();
        }

        await AssertOldOrNewAsync();
        await CompleteAsync();
    }

    [Fact]
    public async Task Update_DiskFull_FailsClearly_FilesOldOrNew_NextRunCompletesOnceThereIsRoom()
    {
        // The node's root is a 48 MiB filesystem: version 1 fits, version 2's 24 new files of 4 MiB do not.
        await RestartAsync(bigFiles: 24, damage: false);
        Directory.CreateDirectory(Root);
        Assert.Equal(0, Syscall("mount", "-t", "tmpfs", "-o", "size=48m", "sidus-full", Root));
        try
        {
            Assert.Equal(0, (await UpdateAsync("--to", _v1)).ExitCode);
            var full = await UpdateAsync("--to", _v2);
            Assert.True(full.ExitCode == 1, full.Text + full.Err);
            Assert.Contains("sidus-agent update: FAILED: ", full.Err, StringComparison.Ordinal);
            Assert.Contains("No space left on device", full.Err, StringComparison.Ordinal);
            await AssertOldOrNewAsync();

            Assert.Equal(0, Syscall("mount", "-o", "remount,size=200m", Root));
            await CompleteAsync();
        }
        finally
        {
            Syscall("umount", "-l", Root);
        }
    }
}
