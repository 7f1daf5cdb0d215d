using System.Text;
using Sidus.Linux;
using Sidus.Store.Checkout;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

public sealed class RoundTripTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Checkout_IntoEmptyDirectory_IsIdenticalToTheImportedTree()
    {
        var source = _store.Dir("source");
        TreeFactory.Everything(source);
        var version = _store.Import("everything", source);
        Assert.True(version.Created);

        var target = _store.Dir("target");
        _store.Checkout("everything", target);

        Assert.Equal(TreeSnapshot.Of(source), TreeSnapshot.Of(target));
        Assert.Equal(string.Empty, Shell.RsyncDifferences(source, target));
    }

    [Fact]
    public void Checkout_KeepsHolesAsHoles()
    {
        var source = _store.Dir("source");
        TreeFactory.Everything(source);
        _store.Import("sparse", source);
        var target = _store.Dir("target");
        _store.Checkout("sparse", target);

        var blocks = Shell.Sh($"stat -c %b '{target}/var/all-holes' '{target}/var/sparse'").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", blocks[0]);
        Assert.True(long.Parse(blocks[1]) < 1024, $"50 MiB sparse file uses {blocks[1]} blocks");
    }

    [Fact]
    public void Checkout_OverAChangedDirectory_RepairsOnlyWhatDiffers()
    {
        var source = _store.Dir("source");
        TreeFactory.Everything(source);
        _store.Import("img", source);
        var target = _store.Dir("target");
        _store.Checkout("img", target);

        Shell.Sh($"""
            set -e
            cd '{target}'
            echo changed > etc/hostname
            chmod 600 usr/bin/medium
            rm -f etc/empty-b
            rm -rf etc/deep
            echo intruder > etc/intruder
            mkdir -p newdir/sub && echo x > newdir/sub/f
            rm usr/bin/tool && mkdir usr/bin/tool
            setfattr -x user.note etc/hostname || true
            """);

        var changes = new List<string>();
        var result = _store.Checkout("img", target, onChange: (a, p) => { lock (changes) { changes.Add($"{a} {Encoding.UTF8.GetString(p)}"); } });

        Assert.Equal(TreeSnapshot.Of(source), TreeSnapshot.Of(target));
        Assert.Contains("Delete etc/intruder", changes);
        Assert.Contains("Delete newdir", changes);
        Assert.Contains("Create etc/deep", changes);
        Assert.True(result.Unchanged > 0, "untouched files must not be rewritten");
    }

    [Fact]
    public void Checkout_OfAnIdenticalDirectory_ChangesNothing()
    {
        var source = _store.Dir("source");
        TreeFactory.Everything(source);
        _store.Import("img", source);
        var target = _store.Dir("target");
        _store.Checkout("img", target);
        var before = TreeSnapshot.Of(target);

        var changes = 0;
        var result = _store.Checkout("img", target, onChange: (_, _) => Interlocked.Increment(ref changes));
        var checksummed = _store.Checkout("img", target, checksum: true, onChange: (_, _) => Interlocked.Increment(ref changes));

        Assert.Equal(0, changes);
        Assert.Equal(0, result.BytesWritten);
        Assert.Equal(0, checksummed.BytesWritten);
        Assert.Equal(before, TreeSnapshot.Of(target));
    }

    [Fact]
    public void Checkout_OfAnotherVersionOverACheckedOutOne_RemovesWhatTheNewVersionLacks()
    {
        var source = _store.Dir("source");
        Directory.CreateDirectory(Path.Combine(source, "etc"));
        File.WriteAllText(Path.Combine(source, "etc", "old"), "old");
        File.CreateSymbolicLink(Path.Combine(source, "etc", "link"), "old");
        _store.Import("img", source);
        File.Delete(Path.Combine(source, "etc", "old"));
        File.Delete(Path.Combine(source, "etc", "link"));
        File.CreateSymbolicLink(Path.Combine(source, "etc", "link"), "new");
        File.WriteAllText(Path.Combine(source, "etc", "new"), "new");
        _store.Import("img", source);

        var target = _store.Dir("target");
        _store.Checkout("img@1", target);
        _store.Checkout("img@1", target);
        _store.Checkout("img@2", target);

        Assert.Equal(TreeSnapshot.Of(source), TreeSnapshot.Of(target));
        _store.Checkout("img@1", target);
        Assert.Equal("old", File.ReadAllText(Path.Combine(target, "etc", "old")));
        Assert.Equal("old", new FileInfo(Path.Combine(target, "etc", "link")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(target, "etc", "new")));
    }

    [Fact]
    public void DryRun_ListsChangesAndTouchesNothing()
    {
        var source = _store.Dir("source");
        File.WriteAllText(Path.Combine(source, "a"), "a");
        Directory.CreateDirectory(Path.Combine(source, "d"));
        File.WriteAllText(Path.Combine(source, "d", "b"), "b");
        _store.Import("img", source);
        var target = _store.Dir("target");
        File.WriteAllText(Path.Combine(target, "extra"), "x");
        File.WriteAllText(Path.Combine(target, "a"), "different");
        var before = TreeSnapshot.Of(target);

        var changes = new List<string>();
        _store.Checkout("img", target, dryRun: true, onChange: (a, p) => { lock (changes) { changes.Add($"{a} {Encoding.UTF8.GetString(p)}"); } });

        Assert.Equal(before, TreeSnapshot.Of(target));
        Assert.Contains("Delete extra", changes);
        Assert.Contains("Update a", changes);
        Assert.Contains("Create d", changes);
        Assert.Contains("Create d/b", changes);
    }

    [Fact]
    public void Checkout_NeverWritesThroughASymlinkInTheTarget()
    {
        var source = _store.Dir("source");
        Directory.CreateDirectory(Path.Combine(source, "etc"));
        File.WriteAllText(Path.Combine(source, "etc", "passwd"), "from the image");
        _store.Import("img", source);

        var outside = _store.Dir("outside");
        File.WriteAllText(Path.Combine(outside, "passwd"), "must stay");
        var target = _store.Dir("target");
        File.CreateSymbolicLink(Path.Combine(target, "etc"), outside);

        _store.Checkout("img", target);

        Assert.Equal("must stay", File.ReadAllText(Path.Combine(outside, "passwd")));
        Assert.True(Directory.Exists(Path.Combine(target, "etc")) && new DirectoryInfo(Path.Combine(target, "etc")).LinkTarget is null);
        Assert.Equal("from the image", File.ReadAllText(Path.Combine(target, "etc", "passwd")));
    }

    [Fact]
    public void Import_OfAnUnchangedTree_MakesNoNewVersion_AndAChangeStoresOnlyNewData()
    {
        var source = _store.Dir("source");
        TreeFactory.Everything(source);
        var first = _store.Import("img", source);
        var again = _store.Import("img", source);
        File.WriteAllText(Path.Combine(source, "etc", "motd"), "welcome");
        var second = _store.Import("img", source);

        Assert.False(again.Created);
        Assert.Equal(first.Id, again.Id);
        Assert.True(second.Created);
        Assert.Equal(2, second.Commit.Sequence);
        Assert.Equal(first.Id, second.Commit.Parent);
        Assert.True(second.NewBytes < 4096, $"a one-file change stored {second.NewBytes} new bytes");
    }

    [Fact]
    public void ChangedBigFile_CostsOnlyItsChangedChunks()
    {
        var source = _store.Dir("source");
        var data = new byte[8 << 20];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Combine(source, "big"), data);
        _store.Import("img", source);

        data[4 << 20] ^= 0xff;
        File.WriteAllBytes(Path.Combine(source, "big"), data);
        var second = _store.Import("img", source);

        Assert.True(second.NewBytes < 600 * 1024, $"one changed byte in 8 MiB stored {second.NewBytes} bytes");
        var target = _store.Dir("target");
        _store.Checkout("img", target);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(target, "big")));
    }

    [Fact]
    public void NonUtf8Names_RoundTripAsBytes()
    {
        var source = _store.Dir("source");
        using (var dir = DirectoryHandle.Open(source))
        using (dir.CreateExclusive(TreeFactory.NonUtf8Name))
        {
        }

        _store.Import("img", source);
        var target = _store.Dir("target");
        _store.Checkout("img", target);

        using var result = DirectoryHandle.Open(target);
        var names = result.ReadEntries().Select(e => e.Name).ToList();
        Assert.Single(names);
        Assert.Equal(TreeFactory.NonUtf8Name, names[0]);
    }
}
