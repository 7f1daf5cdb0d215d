using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

/// <summary>`image exec` on a real chroot: a version only when the command changed the tree (docs/images.md).</summary>
public sealed class ExecChangeTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task Exec_CommandChangingNothing_MakesNoVersion_ARealChangeDoes()
    {
        var source = _store.Dir("root");
        BusyboxRoot.Create(source);
        var first = _store.Import("mini", source);

        // Twice: the first run checks the work tree out, the second reuses it; neither may record a version.
        for (var run = 0; run < 2; run++)
        {
            var (code, version) = await _store.Images.ExecAsync("mini", ["/bin/true"], null, null, CancellationToken.None);
            Assert.Equal(0, code);
            Assert.NotNull(version);
            Assert.False(version.Created, $"run {run}: 'true' changed nothing, yet a version was made: "
                + string.Join(", ", Sidus.Store.Diff.TreeDiff.Compare(_store.Repository, first.Commit.Root, version.Commit.Root)
                    .Select(c => System.Text.Encoding.UTF8.GetString(c.Path))));
            Assert.Equal(first.Id, _store.Repository.Refs.Head("mini"));
        }

        var (touched, changed) = await _store.Images.ExecAsync("mini", ["/bin/sh", "-c", "touch /etc/motd && test -x /usr/sbin/policy-rc.d"], null, null, CancellationToken.None);
        Assert.Equal(0, touched);
        Assert.NotNull(changed);
        Assert.True(changed.Created);
        var changes = Sidus.Store.Diff.TreeDiff.Compare(_store.Repository, first.Commit.Root, changed.Commit.Root)
            .Select(c => System.Text.Encoding.UTF8.GetString(c.Path)).ToList();
        Assert.Contains("etc/motd", changes);
        Assert.DoesNotContain(changes, p => p.StartsWith("usr/sbin", StringComparison.Ordinal));
    }
}
