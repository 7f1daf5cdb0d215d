using System.Globalization;
using System.Text.Json;
using Sidus.Artifacts.Initramfs;
using Sidus.Artifacts.Versions;
using Sidus.Store;
using Sidus.Store.Maintenance;
using Sidus.Store.Objects;
using Xunit.Abstractions;

namespace Sidus.Server.Tests;

/// <summary>
/// Pruning HOME/boot/cache on a real store in a private home: a version that stays ("keep") and one removed with
/// image rm + gc ("gone"), with initramfs files really built for both, plus copies named as other builds would name them.
/// </summary>
public sealed class BootCachePruneTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string OtherAgentHash = "0123456789abcdef";

    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-bootcache-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LogCollector _log = new();
    private ImageStoreView _store = null!;
    private ObjectId _keep;
    private ObjectId _gone;

    private string Agent => Path.Combine(_home, "sidus-agent");

    private string Cache => InitramfsCache.DirectoryFor(_home);

    public async Task InitializeAsync()
    {
        var root = Path.Combine(_home, "root");
        await BootableRoot.WriteAsync(root);
        using (var repository = Repository.Open(_home))
        {
            var images = new ImageStore(repository);
            _keep = images.ImportDirectory("keep", root, "kept image", null, CancellationToken.None).Id;
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "motd"), "the version that will be removed\n");
            _gone = images.ImportDirectory("gone", root, "removed image", null, CancellationToken.None).Id;
        }

        File.Copy("/bin/true", Agent);
        _store = new ImageStoreView(_home, _log.CreateLogger("store"));
    }

    public Task DisposeAsync()
    {
        _store.Dispose();
        Directory.Delete(_home, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Prune_StaleAgentFormatAndRemovedVersion_RemovesThoseKeepsCurrentAndBuildsInProgress()
    {
        var (boot, current, currentHash, staleAgent, staleFormat, goneSet) = Fill();
        var newerFormat = CopySet(_keep, currentHash, InitramfsBuilder.FormatVersion + 1, current);
        var inProgress = InitramfsCache.TemporaryPath(current.InitramfsPath);
        File.Copy(current.InitramfsPath, inProgress);
        var deadWriter = $"{current.InitramfsPath}.{NoSuchProcess().ToString(CultureInfo.InvariantCulture)}{InitramfsCache.TemporarySuffix}";
        File.Copy(current.InitramfsPath, deadWriter);
        var foreign = Path.Combine(Cache, "README.txt");
        await File.WriteAllTextAsync(foreign, "not a cache file\n");
        RemoveFromStore("gone");
        await Task.Delay(ImageStoreView.ReopenInterval);

        string[] expected = [.. staleAgent, .. staleFormat, .. goneSet, deadWriter];
        var sizes = expected.ToDictionary(p => p, p => new FileInfo(p).Length);
        var result = boot.Prune();
        output.WriteLine($"removed {result.Removed.Count} files, {result.BytesFreed} bytes freed, kept {result.Kept}");

        Assert.Equal(expected.Order(StringComparer.Ordinal), result.Removed.Select(r => r.Path).Order(StringComparer.Ordinal));
        Assert.All(expected, p => Assert.False(File.Exists(p), p + " was kept"));
        Assert.Equal(sizes.Values.Sum(), result.BytesFreed);
        Assert.True(result.BytesFreed > 3 * new FileInfo(current.InitramfsPath).Length, $"only {result.BytesFreed} bytes freed");
        string[] kept = [current.KernelPath, current.InitramfsPath, .. CacheSet(_keep, currentHash, InitramfsBuilder.FormatVersion), .. newerFormat, inProgress, foreign];
        Assert.All(kept, p => Assert.True(File.Exists(p), p + " was removed"));
        Assert.Equal(kept.Distinct().Count() - 1, result.Kept);
        Assert.Contains(result.Removed, r => r.Reason.Contains("another node agent", StringComparison.Ordinal));
        Assert.Contains(result.Removed, r => r.Reason.Contains("older Sidus", StringComparison.Ordinal));
        Assert.Contains(result.Removed, r => r.Reason.Contains($"version {_gone.Short} is no longer in the store", StringComparison.Ordinal));
        Assert.Contains(_log.Lines, l => l.Contains($"Boot cache pruned: {expected.Length} file(s) removed, {result.BytesFreed} bytes freed", StringComparison.Ordinal));
        Assert.Empty(boot.Prune().Removed);
    }

    [Fact]
    public async Task Prune_AgentReplacedDuringDownload_OpenDownloadReadsWholeFileAndNextOpenBuildsAnew()
    {
        var boot = new AgentInitramfs(_store, Agent, _log.CreateLogger("boot"));
        var before = Built(boot, _keep);
        var expected = await File.ReadAllBytesAsync(before.InitramfsPath);
        var download = AgentInitramfs.TryOpen(before, kernel: false);
        Assert.NotNull(download);
        await using (download)
        {
            var head = new byte[1000];
            await download.ReadExactlyAsync(head);
            File.Copy("/bin/false", Agent, overwrite: true);
            File.SetLastWriteTimeUtc(Agent, DateTime.UtcNow.AddMinutes(1));
            var result = boot.Prune();

            Assert.Contains(result.Removed, r => r.Path == before.InitramfsPath);
            Assert.False(File.Exists(before.InitramfsPath));
            using var rest = new MemoryStream();
            await download.CopyToAsync(rest);
            Assert.Equal(expected, head.Concat(rest.ToArray()).ToArray());
        }

        Assert.Null(AgentInitramfs.TryOpen(before, kernel: false));
        Assert.Null(boot.TryCached(_keep));
        var after = boot.Build(_keep, CancellationToken.None);
        await using (var stream = AgentInitramfs.TryOpen(after, kernel: false))
        {
            Assert.NotNull(stream);
            Assert.NotEqual(before.InitramfsPath, after.InitramfsPath);
            Assert.False(after.FromCache);
        }
    }

    [Fact]
    public async Task StoreGc_Json_ReportsBootCacheAndKeepsOtherAgentsFiles()
    {
        var (_, current, _, otherAgent, staleFormat, goneSet) = Fill();
        var freed = staleFormat.Concat(goneSet).Sum(p => new FileInfo(p).Length);

        var rm = await Tools.SidusAsync(_home, "image", "rm", "gone");
        Assert.True(rm.ExitCode == 0, rm.Err);
        var gc = await Tools.SidusAsync(_home, "store", "gc", "--json");
        Assert.True(gc.ExitCode == 0, gc.Err);

        using var json = JsonDocument.Parse(gc.Out);
        Assert.Equal(staleFormat.Length + goneSet.Length, json.RootElement.GetProperty("boot_cache_files_removed").GetInt32());
        Assert.Equal(freed, json.RootElement.GetProperty("boot_cache_bytes_freed").GetInt64());
        Assert.Equal(6, json.RootElement.GetProperty("boot_cache_files_kept").GetInt32());
        Assert.True(json.RootElement.GetProperty("objects_removed").GetInt64() > 0, gc.Text);
        Assert.All(staleFormat.Concat(goneSet), p => Assert.False(File.Exists(p), p + " was kept"));
        Assert.All(otherAgent, p => Assert.True(File.Exists(p), p + " was removed: the CLI does not know which agent is served"));
        Assert.True(File.Exists(current.InitramfsPath));
    }

    /// <summary>
    /// Builds the current files of both versions, and copies the kept version's under the names another agent and the
    /// previous format give; returns the builder, the kept version's files, the agent hash and the three sets to remove.
    /// </summary>
    private (AgentInitramfs Boot, AgentBootFiles Current, string Hash, string[] OtherAgent, string[] OlderFormat, string[] Gone) Fill()
    {
        var boot = new AgentInitramfs(_store, Agent, _log.CreateLogger("boot"));
        var current = Built(boot, _keep);
        Built(boot, _gone);
        var hash = InitramfsCache.AgentHash(File.ReadAllBytes(Agent));
        return (boot, current, hash,
            CopySet(_keep, OtherAgentHash, InitramfsBuilder.FormatVersion, current),
            CopySet(_keep, hash, InitramfsBuilder.FormatVersion - 1, current),
            CacheSet(_gone, hash, InitramfsBuilder.FormatVersion));
    }

    private static AgentBootFiles Built(AgentInitramfs boot, ObjectId version) =>
        boot.Build(version, CancellationToken.None);

    private string[] CacheSet(ObjectId version, string agentHash, int format)
    {
        var stem = Path.Combine(Cache, $"{version}-{agentHash}-v{format.ToString(CultureInfo.InvariantCulture)}");
        return [stem + InitramfsCache.KernelExtension, stem + InitramfsCache.InitramfsExtension, stem + InitramfsCache.ReleaseExtension];
    }

    /// <summary>The current files of VERSION copied under the names another agent or builder would give them.</summary>
    private string[] CopySet(ObjectId version, string agentHash, int format, AgentBootFiles current)
    {
        var set = CacheSet(version, agentHash, format);
        File.Copy(current.KernelPath, set[0]);
        File.Copy(current.InitramfsPath, set[1]);
        File.Copy(current.InitramfsPath[..^InitramfsCache.InitramfsExtension.Length] + InitramfsCache.ReleaseExtension, set[2]);
        return set;
    }

    private void RemoveFromStore(string image)
    {
        using var repository = Repository.Open(_home);
        Assert.True(new ImageStore(repository).Remove(image) > 0);
        Assert.True(new StoreMaintenance(repository).CollectGarbage(TimeSpan.FromSeconds(30), CancellationToken.None).ObjectsRemoved > 0);
    }

    /// <summary>A process id above the kernel's limit: no process can have it.</summary>
    private static int NoSuchProcess() =>
        int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture) + 1;
}
