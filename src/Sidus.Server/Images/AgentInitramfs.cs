using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sidus.Artifacts.Initramfs;
using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>The Sidus kernel + initramfs of a version, or why there is none.</summary>
public sealed record AgentBoot(Sidus.Artifacts.Initramfs.BootFiles? Files, string? Problem);

/// <summary>
/// The kernel and Sidus initramfs (node agent as /init) that ram-mode nodes boot, made by
/// <see cref="InitramfsBuilder"/> from the version and the configured agent. The builder caches on disk by version
/// and agent hash; this keeps the answer in memory too and makes one build at a time in the process (the
/// builder's temporary files are per process, and two builds of one version would only race). <see cref="Prune"/> removes the cached
/// files that can no longer be served, never while this process builds.
/// </summary>
public sealed class AgentInitramfs(ImageStoreView store, string agentPath, ILogger logger)
{
    private readonly ConcurrentDictionary<(ObjectId, DateTime), Sidus.Artifacts.Initramfs.BootFiles> _made = new();
    /// <summary>Shared by every instance: the builder's temporary names are per process, and two servers in one
    /// process (tests run several on one home) would otherwise write the same temporary file at once.</summary>
    private static readonly Lock Building = new();

    public string AgentPath => agentPath;

    public string CacheDirectory => InitramfsCache.DirectoryFor(store.Home);

    /// <summary>The files of VERSION, building them on first use (seconds to a minute).</summary>
    public AgentBoot Get(ObjectId version, CancellationToken cancellation)
    {
        if (!File.Exists(agentPath))
        {
            return new AgentBoot(null,
                $"the node agent is missing ({agentPath}): run ./sidus once (it publishes sidus-agent next to the sidus binary) or start sidus serve with --agent PATH");
        }

        var key = (version, File.GetLastWriteTimeUtc(agentPath));
        if (_made.TryGetValue(key, out var known) && File.Exists(known.InitramfsPath) && File.Exists(known.KernelPath))
        {
            return new AgentBoot(known, null);
        }

        lock (Building)
        {
            try
            {
                using var lease = store.Acquire();
                var files = new InitramfsBuilder(lease.Repository, logger).GetOrBuild(version, agentPath, cancellation);
                ServerLog.InitramfsReady(logger, version.Short, files.InitramfsPath, files.KernelRelease, files.Modules, files.FromCache ? "cached" : "built now");
                _made[key] = files;
                return new AgentBoot(files, null);
            }
            catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException or FormatException)
            {
                ServerLog.InitramfsFailed(logger, version.Short, e.Message);
                return new AgentBoot(null, "the Sidus initramfs cannot be made: " + e.Message);
            }
        }
    }

    /// <summary>
    /// Opens VERSION's Sidus kernel (KERNEL true) or initramfs for reading, building them on first use. The caller
    /// reads from the open descriptor, which <see cref="Prune"/> removing the file does not disturb; a file pruned
    /// between finding and opening it (its agent replaced, its version removed) is looked up once more.
    /// </summary>
    public (AgentBoot Boot, FileStream? Stream) Open(ObjectId version, bool kernel, CancellationToken cancellation)
    {
        for (var attempt = 0; ; attempt++)
        {
            var boot = Get(version, cancellation);
            if (boot.Files is not { } files)
            {
                return (boot, null);
            }

            try
            {
                var path = kernel ? files.KernelPath : files.InitramfsPath;
                return (boot, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true));
            }
            catch (FileNotFoundException) when (attempt == 0)
            {
                // Pruned since Get saw it: Get checks the file again and builds it anew if it is still wanted.
            }
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
            ServerLog.BootCacheRemoved(logger, file.Path, file.Bytes, file.Reason);
        }

        if (result.Removed.Count > 0)
        {
            ServerLog.BootCachePruned(logger, result.Removed.Count, result.BytesFreed, result.Kept);
        }

        return result;
    }
}
