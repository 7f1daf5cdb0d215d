using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>
/// Has the boot files of every version a ram or shared node will boot (its image's head, with group defaults
/// applied) made before the node asks: the Sidus initramfs and, with NBD on, the erofs export with its hash tree,
/// through <see cref="VersionArtifacts"/>. Done when the server starts and again every <see cref="Interval"/>, so a
/// new image version or a node moved to another image is ready within that time; a node that asks before is told to
/// ask again while the build runs. One version at a time: warming up must not starve the boots that are going on.
/// </summary>
public sealed class BootFilesWarmer(InventoryView inventory, ImageCatalog images, VersionArtifacts artifacts, ILogger<BootFilesWarmer> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly HashSet<ObjectId> _ready = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    await WarmOnceAsync(stoppingToken);
                }
                catch (Exception e) when (Hosting.LoopErrors.Survivable(e, stoppingToken))
                {
                    ServerLog.ServiceFailed(logger, "boot file warming", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Prepares what is not prepared yet; returns the versions that needed it.</summary>
    public async Task<IReadOnlyList<ObjectId>> WarmOnceAsync(CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        // The inventory and image lookups read the store: off the caller's thread (the host's start-up).
        var versions = await Task.Run(Wanted, cancellation);
        foreach (var version in versions)
        {
            try
            {
                await artifacts.PrepareAsync(version, cancellation);
                _ready.Add(version);
            }
            catch (ArtifactException)
            {
                // Logged by the build, and said again, with its reason, to the node that asks for this version.
            }
        }

        if (versions.Count > 0)
        {
            ServerLog.BootFilesWarmed(logger, versions.Count, clock.Elapsed.TotalSeconds);
        }

        return versions;
    }

    private List<ObjectId> Wanted()
    {
        var snapshot = inventory.Current;
        var versions = new List<ObjectId>();
        foreach (var node in snapshot.Nodes)
        {
            var target = NodeBootTarget.Resolve(images, snapshot.Resolve(node));
            if (target.BootsAgent && target.Image?.Files is { } files && !_ready.Contains(files.Version) && !versions.Contains(files.Version))
            {
                versions.Add(files.Version);
            }
        }

        return versions;
    }
}
