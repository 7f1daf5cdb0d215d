using Sidus.Store.Maintenance;
using Sidus.Store.Tests.Support;

namespace Sidus.Store.Tests;

public sealed class ConcurrencyTests : IDisposable
{
    private readonly StoreFixture _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void SecondWriter_IsRejectedWithAClearMessage_WhileTheFirstHoldsTheLock()
    {
        var source = _store.Dir("source");
        File.WriteAllText(Path.Combine(source, "a"), "a");
        using (_store.Repository.LockForWriting("image import other", TimeSpan.Zero))
        {
            var (code, _, error) = SidusProcess.Run(_store.Home, "image", "import", "img", source, "--wait", "0");
            Assert.True(code == ExitCodes.Busy, error);
            Assert.Contains($"process {Environment.ProcessId} ('image import other')", error);
        }

        var (after, _, _) = SidusProcess.Run(_store.Home, "image", "import", "img", source, "--wait", "0");
        Assert.Equal(0, after);
    }

    [Fact]
    public void Writers_AreSerialized_AndEveryVersionIsKept()
    {
        var sources = Enumerable.Range(0, 4).Select(i =>
        {
            var dir = _store.Dir($"source{i}");
            File.WriteAllBytes(Path.Combine(dir, "data"), FormatTests.XorShiftBytes(100_000 + i));
            return dir;
        }).ToList();

        var processes = sources.Select(s => SidusProcess.Start(_store.Home, "image", "import", "img", s, "-q", "--wait", "120")).ToList();
        foreach (var p in processes)
        {
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)));
            Assert.Equal(0, p.ExitCode);
        }

        using var reopened = Repository.Open(_store.Home);
        var history = reopened.History("img").ToList();
        Assert.Equal(4, history.Count);
        Assert.Equal([4L, 3, 2, 1], history.Select(h => h.Commit.Sequence));
        Assert.True(new StoreMaintenance(reopened).Verify(null, CancellationToken.None).Healthy);
    }
}
