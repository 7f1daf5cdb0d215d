using Sidus.Store.Checkout;
using Sidus.Store.Sync;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// The sync engine's options for updates: excludes (whole and contents-only), no-delete, never crossing into another
/// filesystem (a tmpfs mounted in the target), drift against the last sync's state cache, kept or overwritten.
/// </summary>
public sealed class SyncOptionsTests : IDisposable
{
    private readonly StoreFixture _store = new();
    private readonly string _target;
    private readonly string _stateFile;

    public SyncOptionsTests()
    {
        var source = _store.Dir("source");
        foreach (var (path, text) in new[] { ("etc/motd", "hello\n"), ("etc/hostname", "image\n"), ("var/log/keep", "log\n"), ("usr/bin/tool", "v1\n") })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, path))!);
            File.WriteAllText(Path.Combine(source, path), text);
        }

        Directory.CreateDirectory(Path.Combine(source, "data"));
        _store.Import("img", source);
        _target = _store.Dir("target");
        _stateFile = Path.Combine(_store.Home, "sync.state");
    }

    public void Dispose() => _store.Dispose();

    private (CheckoutResult Result, List<string> Drift, List<string> Changes) Sync(CheckoutOptions options)
    {
        var drift = new List<string>();
        var changes = new List<string>();
        var version = _store.Repository.Resolve("img").Id;
        var result = TreeSync.Checkout(_store.Repository, version, _target, options with
        {
            StateFile = _stateFile,
            OnDrift = (kind, path) => { lock (drift) { drift.Add($"{kind} {System.Text.Encoding.UTF8.GetString(path)}"); } },
            OnChange = (action, path) => { lock (changes) { changes.Add($"{action} {System.Text.Encoding.UTF8.GetString(path)}"); } },
        }, CancellationToken.None);
        return (result, drift, changes);
    }

    [Fact]
    public void Excludes_WholeAndContentsOnly_MatchByPathComponents()
    {
        var x = new SyncExcludes(["/var/log", "/etc/ssh/*", "/etc/machine-id"]);
        Assert.True(x.Contains("var/log"u8));
        Assert.True(x.Contains("var/log/syslog"u8));
        Assert.False(x.Contains("var/logrotate"u8));
        Assert.False(x.Contains("etc/ssh"u8));
        Assert.True(x.Contains("etc/ssh/ssh_host_rsa_key"u8));
        Assert.True(x.Contains("etc/machine-id"u8));
        Assert.False(x.Contains("etc/machine-id2"u8));
        Assert.True(x.HoldsExcluded("var"u8));
        Assert.False(x.HoldsExcluded("var/log"u8));
        Assert.False(x.HoldsExcluded("va"u8));
        Assert.True(x.LeadsTo([]));
        Assert.True(x.LeadsTo("etc"u8));
        Assert.True(x.LeadsTo("etc/ssh"u8));
        Assert.False(x.LeadsTo("var/log"u8));
        Assert.False(x.LeadsTo("usr"u8));
        Assert.False(SyncExcludes.None.LeadsTo([]));
        Assert.Throws<ArgumentException>(() => new SyncExcludes(["var/log"]));
        Assert.Throws<ArgumentException>(() => new SyncExcludes(["/var/../etc"]));
        Assert.Throws<ArgumentException>(() => new SyncExcludes(["/"]));
    }

    [Fact]
    public void Drift_ReportedBeforeChange_KeptOrOverwritten_ExcludesUntouched_NoDelete()
    {
        var first = Sync(new CheckoutOptions());
        Assert.False(first.Result.DriftKnown);
        File.WriteAllText(Path.Combine(_target, "etc/motd"), "local\n");
        File.WriteAllText(Path.Combine(_target, "etc/extra"), "mine\n");
        File.WriteAllText(Path.Combine(_target, "var/log/keep"), "the node's log\n");

        var excludes = new SyncExcludes(["/var/log"]);
        var kept = Sync(new CheckoutOptions { Excludes = excludes, KeepDrift = true });
        Assert.True(kept.Result.DriftKnown);
        Assert.Equal(["Added etc/extra", "Modified etc/motd"], kept.Drift.Order());
        Assert.Equal("local\n", File.ReadAllText(Path.Combine(_target, "etc/motd")));
        Assert.True(File.Exists(Path.Combine(_target, "etc/extra")));
        Assert.DoesNotContain(kept.Changes, c => c.Contains("etc/", StringComparison.Ordinal));

        var noDelete = Sync(new CheckoutOptions { Excludes = excludes, NoDelete = true });
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(_target, "etc/motd")));
        Assert.True(File.Exists(Path.Combine(_target, "etc/extra")));
        Assert.DoesNotContain(noDelete.Changes, c => c.StartsWith("Delete", StringComparison.Ordinal));

        var full = Sync(new CheckoutOptions { Excludes = excludes });
        Assert.Equal(["Added etc/extra"], full.Drift);
        Assert.False(File.Exists(Path.Combine(_target, "etc/extra")));
        Assert.Equal("the node's log\n", File.ReadAllText(Path.Combine(_target, "var/log/keep")));
        Assert.Empty(Sync(new CheckoutOptions { Excludes = excludes }).Drift);
    }

    [Fact]
    public void ScanRunFirst_TheSyncTakesItsFindings_DriftNamedOnce_TargetMadeEqual()
    {
        // As an update does: the drift scan runs before the sync (while the manifest comes), the sync uses its
        // listings and statuses instead of its own.
        Sync(new CheckoutOptions());
        File.WriteAllText(Path.Combine(_target, "etc/motd"), "local\n");
        File.WriteAllText(Path.Combine(_target, "etc/extra"), "mine\n");
        File.Delete(Path.Combine(_target, "usr/bin/tool"));
        Directory.CreateDirectory(Path.Combine(_target, "usr/new"));
        File.WriteAllText(Path.Combine(_target, "usr/new/file"), "x\n");
        var drift = new List<string>();
        var last = StateCache.Load(_stateFile)!;
        using var scan = DriftScan.Run(_target, last, new CheckoutOptions
        {
            OnDrift = (kind, path) => drift.Add($"{kind} {System.Text.Encoding.UTF8.GetString(path)}"),
        });
        Assert.False(scan.Exact);
        Assert.Equal(4, scan.Drifted);

        var run = Sync(new CheckoutOptions { Scan = scan, LastState = last });
        Assert.Empty(run.Drift);
        Assert.True(run.Result.DriftKnown);
        Assert.Equal(4, run.Result.Drifted);
        Assert.Equal(["Added etc/extra", "Added usr/new", "Modified etc/motd", "Removed usr/bin/tool"], drift.Order());
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(_target, "etc/motd")));
        Assert.Equal("v1\n", File.ReadAllText(Path.Combine(_target, "usr/bin/tool")));
        Assert.False(File.Exists(Path.Combine(_target, "etc/extra")));
        Assert.False(Directory.Exists(Path.Combine(_target, "usr/new")));

        // The scan's handles stay usable until it is disposed, and the next scan finds the target exactly as left.
        using var again = DriftScan.Run(_target, StateCache.Load(_stateFile)!, new CheckoutOptions { OnDrift = (_, _) => { } });
        Assert.True(again.Exact);
    }

    [Fact]
    public void StayOnFilesystem_AMountInTheTargetIsNeitherEnteredNorDeleted()
    {
        Sync(new CheckoutOptions());
        var data = Path.Combine(_target, "data");
        var extra = Path.Combine(_target, "scratch");
        Directory.CreateDirectory(extra);
        Assert.Equal(0, Shell.Run("mount", "-t", "tmpfs", "sidus-test", data).Code);
        Assert.Equal(0, Shell.Run("mount", "-t", "tmpfs", "sidus-test", extra).Code);
        try
        {
            File.WriteAllText(Path.Combine(data, "preserved"), "keep me\n");
            File.WriteAllText(Path.Combine(extra, "preserved"), "keep me too\n");
            var run = Sync(new CheckoutOptions { StayOnFilesystem = true });
            Assert.Empty(run.Drift);
            Assert.Equal("keep me\n", File.ReadAllText(Path.Combine(data, "preserved")));
            Assert.Equal("keep me too\n", File.ReadAllText(Path.Combine(extra, "preserved")));
            Assert.DoesNotContain(run.Changes, c => c.Contains("data", StringComparison.Ordinal) || c.Contains("scratch", StringComparison.Ordinal));
        }
        finally
        {
            Shell.Run("umount", data);
            Shell.Run("umount", extra);
        }
    }

    /// <summary>Hands each content over as a lazy sequence that fails after its first piece (a source that finds the
    /// data wrong only at its end, as the agent's streamed large contents do).</summary>
    private sealed class FailingAfterFirstPiece(IContentSource inner) : IContentSource
    {
        public ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation) =>
            inner.DeliverAsync(wanted, (content, data) => write(content, FirstPieceThenFail(data)), cancellation);

        private static IEnumerable<ReadOnlyMemory<byte>> FirstPieceThenFail(IEnumerable<ReadOnlyMemory<byte>> data)
        {
            yield return data.First();
            throw new InvalidDataException("wrong data, found at its end");
        }
    }

    [Fact]
    public void SourceFailsInsideAContent_NoFileAndNoTemporaryLeft()
    {
        var version = _store.Repository.Resolve("img").Id;
        var source = new StoreSource(_store.Repository, version);
        var sync = new TreeSync(source, new FailingAfterFirstPiece(source), new CheckoutOptions { StateFile = _stateFile }, cacheDirectory: null);

        var e = Assert.Throws<InvalidDataException>(() => sync.Run(_target, CancellationToken.None));
        Assert.Equal("wrong data, found at its end", e.Message);
        var left = Directory.EnumerateFiles(_target, "*", SearchOption.AllDirectories).ToList();
        Assert.Empty(left);
        Assert.True(Directory.Exists(Path.Combine(_target, "etc")), "the walk had not made the directories: the test proves nothing");
    }
}
