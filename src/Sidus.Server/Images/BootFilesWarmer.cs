using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sidus.Server.Inventory;
using Sidus.Store;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>
/// Builds the boot files of every version a ram or shared node will boot (its image's head, with group defaults
/// applied) before the node asks: the Sidus initramfs and, with NBD on, the erofs export with its hash tree. Done when
/// the server starts and again every <see cref="Interval"/>, so a new image version or a node moved to another image
/// is ready within that time. Without this the first node to boot a version waits for both builds inside its script
/// request (a minute or more for a big image, past what some firmware's HTTP client waits). One version at a time:
/// warming up must not starve the boots that are going on.
/// </summary>
public sealed class BootFilesWarmer(InventoryView inventory, ImageCatalog images, AgentInitramfs agentBoot, ErofsExports? exports,
    ILogger<BootFilesWarmer> logger) : BackgroundService
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
                await Task.Run(() => WarmOnce(stoppingToken), stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Prepares what is not prepared yet; returns the versions that needed it.</summary>
    public IReadOnlyList<ObjectId> WarmOnce(CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
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

        foreach (var version in versions)
        {
            cancellation.ThrowIfCancellationRequested();
            var made = agentBoot.Get(version, cancellation).Files is not null;
            try
            {
                exports?.GetOrBuild(version, cancellation);
            }
            catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException)
            {
                // Said again, with its reason, to the node that asks for this version.
                ServerLog.ExportFailed(logger, version.Short, e.Message);
                made = false;
            }

            if (made)
            {
                _ready.Add(version);
            }
        }

        if (versions.Count > 0)
        {
            ServerLog.BootFilesWarmed(logger, versions.Count, clock.Elapsed.TotalSeconds);
        }

        return versions;
    }
}
