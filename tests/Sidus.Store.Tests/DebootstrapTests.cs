using Sidus.Store.Build;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>A real Debian root tree from debootstrap, through the store and back; then changed in a chroot.</summary>
public sealed class DebootstrapTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task DebootstrapTree_RoundTripsExactly_AndExecRecordsAChange()
    {
        var source = _store.Dir("rootfs");
        await Debootstrap.BuildAsync(
            new BuildRequest("bookworm", Debootstrap.DefaultMirror, [], "minbase", Debootstrap.HostArchitecture()),
            source, source + ".log", null, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(source, "usr/bin/apt-get")), "debootstrap produced a Debian tree");

        var first = _store.Import("debian", source);
        var target = _store.Dir("checkout");
        _store.Checkout("debian", target);

        Assert.Equal(string.Empty, Shell.RsyncDifferences(source, target));
        Assert.Equal(TreeSnapshot.Of(source), TreeSnapshot.Of(target));

        var mountsBefore = File.ReadAllText("/proc/self/mounts");
        var (code, version) = await _store.Images.ExecAsync("debian",
            ["/bin/sh", "-c", "test -e /proc/self/status && test -c /dev/null && echo changed > /etc/motd && test -x /usr/sbin/policy-rc.d"],
            null, null, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.NotNull(version);
        Assert.Equal(first.Id, version.Commit.Parent);
        Assert.Equal(mountsBefore, File.ReadAllText("/proc/self/mounts"));
        var work = Path.Combine(_store.Home, "work", "debian");
        Assert.False(File.Exists(Path.Combine(work, "usr/sbin/policy-rc.d")), "the lent policy-rc.d is gone");
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(work, "proc")));

        var changes = Sidus.Store.Diff.TreeDiff.Compare(_store.Repository, first.Commit.Root, version.Commit.Root);
        Assert.Contains(changes, c => System.Text.Encoding.UTF8.GetString(c.Path) == "etc/motd");
        Assert.DoesNotContain(changes, c => System.Text.Encoding.UTF8.GetString(c.Path).StartsWith("usr/sbin/policy-rc.d", StringComparison.Ordinal));

        var (failed, none) = await _store.Images.ExecAsync("debian", ["/bin/false"], null, null, CancellationToken.None);
        Assert.Equal(1, failed);
        Assert.Null(none);
        Assert.Equal(version.Id, _store.Repository.Refs.Head("debian"));
    }
}
