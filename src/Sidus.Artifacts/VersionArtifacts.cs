using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Initramfs;

namespace Sidus.Artifacts;

/// <summary>
/// What is built from an image version for booting it, cached by version id: the Sidus kernel and initramfs
/// (<see cref="AgentInitramfs"/>) and, when NBD is on, the erofs export with its dm-verity tree
/// (<see cref="ErofsExports"/>). Every asker gets a task: completed when the artifact is made already, else the one
/// build of that version in progress, which runs on <see cref="Workers"/> dedicated threads; nobody holds a thread
/// while waiting. A failed build is kept with its message for <see cref="FailureKeptFor"/> and handed to the nodes
/// that ask meanwhile. The boot script, the file and NBD endpoints and the warmer all go through here.
/// </summary>
public sealed class VersionArtifacts : IDisposable
{
    /// <summary>Builds at most at once: an export and an initramfs side by side, not so many that boots starve.</summary>
    public const int Workers = 2;

    /// <summary>How long a failure is answered from memory before a new ask builds again (a fix in the image is tried then).</summary>
    public static readonly TimeSpan FailureKeptFor = TimeSpan.FromSeconds(30);

    private readonly BuildWorkers _workers;
    private readonly SingleFlight<AgentBootFiles> _agentBoot;
    private readonly SingleFlight<ErofsExportFile>? _exports;
    private readonly ILogger _logger;

    public VersionArtifacts(AgentInitramfs agentBoot, ErofsExports? exports, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(agentBoot);
        _logger = logger;
        time ??= TimeProvider.System;
        AgentBoot = agentBoot;
        Exports = exports;
        _workers = new BuildWorkers(Workers, "sidus artifact build");
        _agentBoot = new SingleFlight<AgentBootFiles>(_workers, agentBoot.TryCached, agentBoot.Build, time);
        if (exports is not null)
        {
            _exports = new SingleFlight<ErofsExportFile>(_workers, exports.TryCached, (v, c) => BuildExport(exports, v, c), time);
        }
    }

    public AgentInitramfs AgentBoot { get; }

    /// <summary>The erofs exports, or null when NBD is off (and no version has one).</summary>
    public ErofsExports? Exports { get; }

    /// <summary>Builds started so far (initramfs and export builds together); for the status page and tests.</summary>
    public int BuildsStarted => _agentBoot.Started + (_exports?.Started ?? 0);

    /// <summary>VERSION's Sidus kernel and initramfs: made already, or the build's task (started if none runs).</summary>
    /// <exception cref="ArtifactException">Through the task: the files cannot be made; the message says why.</exception>
    public Task<AgentBootFiles> AgentBootAsync(ObjectId version) => _agentBoot.GetAsync(version);

    /// <summary>VERSION's erofs export with its dm-verity tree: made already, or the build's task (started if none runs).</summary>
    /// <exception cref="InvalidOperationException">NBD is off: there are no exports.</exception>
    public Task<ErofsExportFile> ExportAsync(ObjectId version) =>
        (_exports ?? throw new InvalidOperationException("NBD is off: versions have no erofs export")).GetAsync(version);

    /// <summary>VERSION's Sidus kernel and initramfs when they are made; never builds.</summary>
    public AgentBootFiles? TryGetAgentBoot(ObjectId version) => _agentBoot.TryGet(version);

    /// <summary>VERSION's export when it is made (null also when NBD is off); never builds.</summary>
    public ErofsExportFile? TryGetExport(ObjectId version) => _exports?.TryGet(version);

    /// <summary>
    /// Everything a ram or shared node of VERSION boots with (the export only when NBD is on), built when missing.
    /// Completes when both are made or one failed (its <see cref="ArtifactException"/>); for the warmer.
    /// </summary>
    public async Task PrepareAsync(ObjectId version, CancellationToken cancellation)
    {
        var boot = AgentBootAsync(version);
        var export = _exports?.GetAsync(version) ?? Task.FromResult<ErofsExportFile>(null!);
        await Task.WhenAll(boot, export).WaitAsync(cancellation);
    }

    /// <summary>Stops the workers: a build in progress gives up at its next check, queued ones are cancelled.</summary>
    public void Dispose() => _workers.Dispose();

    private ErofsExportFile BuildExport(ErofsExports exports, ObjectId version, CancellationToken cancellation)
    {
        try
        {
            var export = exports.GetOrBuild(version, cancellation);
            ArtifactsLog.ExportReady(_logger, version.Short, export.Size, export.FromCache ? "cached" : "built now");
            ArtifactsMetrics.Built("export", export.FromCache ? "cached" : "built");
            return export;
        }
        catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException)
        {
            ArtifactsLog.ExportFailed(_logger, version.Short, e.Message);
            ArtifactsMetrics.Built("export", "failed");
            throw new ArtifactException(e.Message, e);
        }
    }
}
