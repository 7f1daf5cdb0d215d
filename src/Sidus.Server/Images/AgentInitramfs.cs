using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sidus.Boot.Initramfs;
using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>The Sidus kernel + initramfs of a version, or why there is none.</summary>
public sealed record AgentBoot(Sidus.Boot.Initramfs.BootFiles? Files, string? Problem);

/// <summary>
/// The kernel and Sidus initramfs (node agent as /init) that ram-mode nodes boot, made by
/// <see cref="InitramfsBuilder"/> from the version and the configured agent. The builder caches on disk by version
/// and agent hash; this keeps the answer in memory too and makes one build at a time (the builder's temporary
/// files are per process, and two builds of one version would only race).
/// </summary>
public sealed class AgentInitramfs(ImageStoreView store, string agentPath, ILogger logger)
{
    private readonly ConcurrentDictionary<(ObjectId, DateTime), Sidus.Boot.Initramfs.BootFiles> _made = new();
    private readonly Lock _building = new();

    public string AgentPath => agentPath;

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

        lock (_building)
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
}
