using System.Text;
using Sidus.Store.Capture;
using Sidus.Store.Diff;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>
/// `sidus node capture`'s store half: an overlay upper layer made as overlayfs makes it (files, a character device
/// 0:0 for each deletion, trusted.overlay.opaque on a directory that replaced one, overlayfs's bookkeeping xattrs),
/// walked by the capture walker in its one-way form and laid over the booted version. The result must be the tree
/// the node saw: compared with the import of that very tree, built by hand (same root tree id).
/// </summary>
public sealed class OverlayCaptureTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Overlay_LaidOverTheBootedVersion_IsTheTreeTheNodeSaw()
    {
        var (baseVersion, upper, seen) = Scenario();
        var dry = Receive(baseVersion, upper, "demo", dryRun: true);
        Assert.Null(dry.Version);
        Assert.Equal(baseVersion.Id, _store.Repository.Refs.Head("demo"));
        var changes = dry.Changes!.Select(c => $"{Mark(c.Kind)} /{Encoding.UTF8.GetString(c.Path)}").ToList();
        Assert.Contains("+ /srv/new/hello.txt", changes);
        Assert.Contains("M /etc/motd", changes.Select(c => c.Split("  ")[0]));
        Assert.Contains("- /etc/issue", changes);
        Assert.Contains("- /opt/old/a", changes); // hidden by the opaque directory
        Assert.Contains("+ /opt/old/b", changes);
        Assert.DoesNotContain(changes, c => c.Contains("/usr/", StringComparison.Ordinal));

        // The node's identity and logs are excluded: /etc/hostname stays the image's, and /var (copied up for a log
        // only) is no change at all.
        Assert.DoesNotContain(changes, c => c.Contains("hostname", StringComparison.Ordinal) || c.Contains("/var", StringComparison.Ordinal));

        var captured = Receive(baseVersion, upper, "demo", dryRun: false);
        Assert.True(captured.Version!.Created);
        Assert.Equal(baseVersion.Id, captured.Version.Commit.Parent);
        var expected = _store.Import("expected", seen);
        Assert.Empty(TreeDiff.Compare(_store.Repository, expected.Commit.Root, captured.Version.Commit.Root)
            .Select(c => $"{Mark(c.Kind)} /{Encoding.UTF8.GetString(c.Path)} {string.Join(",", c.What)}"));
        Assert.Equal(expected.Commit.Root.Tree, captured.Version.Commit.Root.Tree);
    }

    [Fact]
    public void Overlay_OverAnOlderVersion_IsRefused_UnlessIntoAnotherImage()
    {
        var (baseVersion, upper, _) = Scenario();
        var newer = _store.Import("demo", _store.Dir("newer"));
        var refused = Assert.Throws<StoreException>(() => Receive(baseVersion, upper, "demo", dryRun: false));
        Assert.Contains("newer version", refused.Message);
        Assert.Equal(newer.Id, _store.Repository.Refs.Head("demo"));

        var other = Receive(baseVersion, upper, "demo-node7", dryRun: false);
        Assert.True(other.Version!.Created);
        Assert.Equal(1, other.Version.Commit.Sequence);
    }

    [Fact]
    public void Overlay_WithARenamedDirectory_IsRefused_NothingRecorded()
    {
        var (baseVersion, upper, _) = Scenario();
        Shell.Sh($"setfattr -n trusted.overlay.redirect -v /opt/old '{upper}/srv'");
        var refused = Assert.Throws<CaptureRefusedException>(() => Receive(baseVersion, upper, "demo", dryRun: false));
        Assert.Contains("trusted.overlay.redirect", refused.Message);
        Assert.Equal(baseVersion.Id, _store.Repository.Refs.Head("demo"));
    }

    /// <summary>The booted version, its node's upper layer, and (built by hand) the tree the node saw through the overlay.</summary>
    private (VersionResult Base, string Upper, string Seen) Scenario()
    {
        var lower = _store.Dir("lower");
        Shell.Sh($"""
            cd '{lower}' && mkdir -p etc usr/bin opt/old srv var/log && echo welcome > etc/motd && echo Debian > etc/issue
            echo debian > etc/hostname
            echo tool > usr/bin/tool && chmod 755 usr/bin/tool && echo a > opt/old/a
            """);
        var baseVersion = _store.Import("demo", lower);

        // The upper layer as overlayfs leaves it: copied-up directories carry trusted.overlay.origin, a deletion is a
        // character device 0:0, a directory removed then made again is opaque.
        var upper = _store.Dir("upper");
        Shell.Sh($"""
            cd '{upper}' && mkdir -p etc srv/new opt/old
            touch -r '{lower}/etc' etc && chmod 755 etc && setfattr -n trusted.overlay.origin -v 0x00fb '{upper}/etc'
            echo 'node7 was here' > etc/motd && setfattr -n user.note -v kept etc/motd
            mknod etc/issue c 0 0
            echo node7 > etc/hostname && mkdir -p var/log && echo booted > var/log/syslog
            echo hello > srv/new/hello.txt
            echo b > opt/old/b && setfattr -n trusted.overlay.opaque -v y opt/old
            """);

        var seen = _store.Dir("seen");
        Shell.Sh($"""
            cp -a '{lower}/.' '{seen}/' && rm '{seen}/etc/issue' && rm -r '{seen}/opt/old'
            cp -a '{upper}/etc/motd' '{seen}/etc/motd' && mkdir -p '{seen}/srv/new' '{seen}/opt/old'
            cp -a '{upper}/srv/new/hello.txt' '{seen}/srv/new/' && cp -a '{upper}/opt/old/b' '{seen}/opt/old/'
            touch -r '{upper}/srv' '{seen}/srv' && touch -r '{upper}/srv/new' '{seen}/srv/new'
            touch -r '{upper}/opt/old' '{seen}/opt/old' && touch -r '{upper}/etc' '{seen}/etc' && touch -r '{upper}/opt' '{seen}/opt'
            """);
        return (baseVersion, upper, seen);
    }

    private CaptureResult Receive(VersionResult baseVersion, string upper, string image, bool dryRun)
    {
        var request = new MemoryStream();
        CaptureProtocol.WriteRequest(request, new CaptureRequest([], dryRun, SendAll: true));
        request.Position = 0;
        var stream = new MemoryStream();
        var errors = new StringWriter();
        Assert.True(new CaptureWalker(request, stream, upper, null, errors).Run(CancellationToken.None) == 0, errors.ToString());
        stream.Position = 0;
        var excludes = CaptureExcludes.Defaults.Select(d => d.Path).ToList();
        return ImageCapture.ReceiveOverlay(_store.Images, image, baseVersion.Id, stream, excludes, dryRun, "test", CancellationToken.None);
    }

    private static string Mark(ChangeKind kind) => kind switch { ChangeKind.Added => "+", ChangeKind.Removed => "-", _ => "M" };
}
