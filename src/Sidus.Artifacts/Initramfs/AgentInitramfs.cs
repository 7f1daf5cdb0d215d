using Sidus.Artifacts.Versions;

namespace Sidus.Artifacts.Initramfs;

/// <summary>
/// The kernel and Sidus initramfs (node agent as /init) that ram- and shared-mode nodes boot, made by
/// <see cref="InitramfsBuilder"/> from the version and the configured agent. The builder caches on disk by version
/// and agent hash; this keeps the answer in memory too and makes one build at a time in the process (the
/// builder's temporary files are per process, and two builds of one version would only race). <see cref="Prune"/>
/// removes the cached files that can no longer be served, never while this process builds. Builds are started by
/// <see cref="VersionArtifacts"/>, on its workers; <see cref="TryCached"/> only looks.
/// </summary>
public sealed class AgentInitramfs(ImageStoreView store, string agentPath, ILogger logger)
{
    private readonly ConcurrentDictionary<(ObjectId, DateTime), AgentBootFiles> _made = new();

    /// <summary>Shared by every instance: the builder's temporary names are per process, and two servers in one
    /// process (tests run several on one home) would otherwise write the same temporary file at once.</summary>
    private static readonly Lock Building = new();

    /// <summary>The agent's short hash, read again only when the agent file changes (its write time).</summary>
    private AgentHashMemo? _agentHash;

    public string AgentPath => agentPath;

    public string CacheDirectory => InitramfsCache.DirectoryFor(store.Home);

    /// <summary>VERSION's files when they are made already (in memory or in the boot cache on disk); never builds.</summary>
    public AgentBootFiles? TryCached(ObjectId version)
    {
        if (!File.Exists(agentPath))
        {
            return null;
        }

        var writtenAt = File.GetLastWriteTimeUtc(agentPath);
        if (_made.TryGetValue((version, writtenAt), out var known) && File.Exists(known.InitramfsPath) && File.Exists(known.KernelPath))
        {
            return known;
        }

        try
        {
            if (InitramfsBuilder.TryCached(InitramfsCache.Stem(CacheDirectory, version, AgentHash(writtenAt))) is { } cached)
            {
                _made[(version, writtenAt)] = cached;
                return cached;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable cache entry: the build writes it anew.
        }

        return null;
    }

    /// <summary>The files of VERSION, building them when they are not cached (seconds to a minute).</summary>
    /// <exception cref="ArtifactException">The agent is missing or the initramfs cannot be made; the message says why.</exception>
    public AgentBootFiles Build(ObjectId version, CancellationToken cancellation)
    {
        if (!File.Exists(agentPath))
        {
            throw new ArtifactException(
                $"the node agent is missing ({agentPath}): run ./sidus once (it publishes sidus-agent next to the sidus binary) or start sidus serve with --agent PATH");
        }

        var key = (version, File.GetLastWriteTimeUtc(agentPath));
        lock (Building)
        {
            try
            {
                using var lease = store.Acquire();
                var files = new InitramfsBuilder(lease.Repository, logger).GetOrBuild(version, agentPath, cancellation);
                ArtifactsLog.InitramfsReady(logger, version.Short, files.InitramfsPath, files.KernelRelease, files.Modules, files.FromCache ? "cached" : "built now");
                _made[key] = files;
                ArtifactsMetrics.Built("initramfs", files.FromCache ? "cached" : "built");
                return files;
            }
            catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException or FormatException or InvalidDataException)
            {
                ArtifactsLog.InitramfsFailed(logger, version.Short, e.Message);
                ArtifactsMetrics.Built("initramfs", "failed");
                throw new ArtifactException("the Sidus initramfs cannot be made: " + e.Message, e);
            }
        }
    }

    /// <summary>
    /// Opens FILES' Sidus kernel (KERNEL true) or initramfs for reading, or null when it was pruned since it was found
    /// (ask <see cref="VersionArtifacts"/> again: it builds it anew). The caller reads from the open descriptor, which
    /// <see cref="Prune"/> removing the file does not disturb.
    /// </summary>
    public static FileStream? TryOpen(AgentBootFiles files, bool kernel)
    {
        ArgumentNullException.ThrowIfNull(files);
        try
        {
            return new FileStream(kernel ? files.KernelPath : files.InitramfsPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Removes the cached files that cannot be served again (another agent than the configured one, an older builder,
    /// a version gone from the store, temporary files of a process that died) and logs each; waits for a build in
    /// progress so its files are never touched.
    /// </summary>
    public BootCachePruneResult Prune()
    {
        string? agentHash = null;
        if (File.Exists(agentPath))
        {
            agentHash = InitramfsCache.AgentHash(File.ReadAllBytes(agentPath));
        }

        store.Reopen("checking which versions in the boot cache are still in the store");
        BootCachePruneResult result;
        lock (Building)
        {
            result = InitramfsCache.Prune(CacheDirectory, v => store.HasVersion(v, reopen: false), agentHash);
        }

        foreach (var file in result.Removed)
        {
            ArtifactsLog.BootCacheRemoved(logger, file.Path, file.Bytes, file.Reason);
        }

        if (result.Removed.Count > 0)
        {
            ArtifactsLog.BootCachePruned(logger, result.Removed.Count, result.BytesFreed, result.Kept);
        }

        return result;
    }

    private string AgentHash(DateTime writtenAt)
    {
        if (Volatile.Read(ref _agentHash) is { } known && known.WrittenAt == writtenAt)
        {
            return known.Hash;
        }

        var hash = InitramfsCache.AgentHash(File.ReadAllBytes(agentPath));
        Volatile.Write(ref _agentHash, new AgentHashMemo(writtenAt, hash));
        return hash;
    }

    private sealed record AgentHashMemo(DateTime WrittenAt, string Hash);
}
