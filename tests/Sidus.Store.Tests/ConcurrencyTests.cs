using Sidus.Cli;
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

    [Fact]
    public async Task Reader_WhileAWriterImports_AlwaysSeesWholeVersions()
    {
        var source = _store.Dir("source");
        for (var i = 0; i < 20; i++)
        {
            File.WriteAllBytes(Path.Combine(source, $"f{i}"), FormatTests.XorShiftBytes(300_000 + i));
        }

        _store.Import("img", source);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var writer = Task.Run(() =>
        {
            for (var round = 0; round < 6; round++)
            {
                File.WriteAllText(Path.Combine(source, "round"), round.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var (code, _, error) = SidusProcess.Run(_store.Home, "image", "import", "img", source, "-q", "--wait", "60");
                Assert.True(code == 0, error);
            }
        });

        var reads = 0;
        while (!writer.IsCompleted && DateTime.UtcNow < deadline)
        {
            using var reader = Repository.Open(_store.Home);
            var (id, commit) = reader.Resolve("img");
            // Every version a reader can name is complete: its whole tree and all its data read back verified.
            foreach (var entry in reader.ReadTree(commit.Root.Tree).Where(e => e.DataLength > 0))
            {
                foreach (var piece in Objects.ContentStore.Read(reader.Objects, entry.Content))
                {
                    Assert.False(piece.IsEmpty);
                }
            }

            Assert.Equal(id, Objects.ObjectId.Hash(commit.Encode()));
            reads++;
        }

        await writer;
        Assert.True(reads > 0);
        using var final = Repository.Open(_store.Home);
        Assert.Equal(7, final.History("img").Count());
    }
}
