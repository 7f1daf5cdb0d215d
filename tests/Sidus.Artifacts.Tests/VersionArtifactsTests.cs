using Microsoft.Extensions.Logging.Abstractions;
using Sidus.Artifacts.Initramfs;
using Sidus.Artifacts.Versions;
using Sidus.Store;

namespace Sidus.Artifacts.Tests;

/// <summary>The cache by version id: one build shared by every asker, a failure kept with its message for a while.</summary>
public sealed class VersionArtifactsTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("sidus-artifacts-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task AgentBoot_AgentMissing_FailureSharedAndKeptThenTriedAgain()
    {
        var root = Directory.CreateDirectory(Path.Combine(_home, "root")).FullName;
        File.WriteAllText(Path.Combine(root, "hostname"), "x\n");
        using (var repository = Repository.Open(_home))
        {
            new ImageStore(repository).ImportDirectory("img", root, "test", null, CancellationToken.None);
        }

        using var store = new ImageStoreView(_home, NullLogger.Instance);
        using var lease = store.Acquire();
        var (version, _) = lease.Repository.Resolve("img");
        var clock = new ManualClock();
        using var artifacts = new VersionArtifacts(
            new AgentInitramfs(store, Path.Combine(_home, "no-agent"), NullLogger.Instance), null, NullLogger.Instance, clock);

        var asks = Enumerable.Range(0, 20).Select(_ => artifacts.AgentBootAsync(version)).ToList();
        var e = await Assert.ThrowsAsync<ArtifactException>(() => asks[0]);
        Assert.StartsWith("the node agent is missing", e.Message, StringComparison.Ordinal);
        _ = Assert.Single(asks.Distinct());
        Assert.Equal(1, artifacts.BuildsStarted);
        Assert.Null(artifacts.TryGetAgentBoot(version));

        clock.Advance(VersionArtifacts.FailureKeptFor - TimeSpan.FromSeconds(1));
        var again = artifacts.AgentBootAsync(version);
        Assert.Same(asks[0], again);
        clock.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<ArtifactException>(() => artifacts.AgentBootAsync(version));
        Assert.Equal(2, artifacts.BuildsStarted);
    }

    [Fact]
    public void Export_NbdOff_NoExportsAndNoBuild()
    {
        using var store = new ImageStoreView(_home, NullLogger.Instance);
        using var artifacts = new VersionArtifacts(new AgentInitramfs(store, "/nonexistent", NullLogger.Instance), null, NullLogger.Instance);
        Assert.Null(artifacts.TryGetExport(default));
        Assert.Throws<InvalidOperationException>(() => { _ = artifacts.ExportAsync(default); });
        Assert.Equal(0, artifacts.BuildsStarted);
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
