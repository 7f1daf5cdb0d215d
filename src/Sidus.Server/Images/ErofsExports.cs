using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sidus.Boot.Nbd;
using Sidus.Store;
using Sidus.Store.Export;
using Sidus.Store.Objects;

namespace Sidus.Server.Images;

/// <summary>A version's erofs export file.</summary>
public sealed record ErofsExportFile(ObjectId Version, string Path, long Size, bool FromCache);

/// <summary>One cached export as the status page shows it.</summary>
public sealed record ErofsExportStatus(ObjectId Version, long Size, int OpenConnections);

/// <summary>
/// The erofs image of each version that shared-mode nodes mount over NBD, cached as HOME/exports/VERSION.erofs and
/// built by the store's erofs exporter (temporary file, fsync, rename: never a partial file in place; never stale,
/// since a version never changes). One build per version at a time: fifty nodes asking at once wait for one build.
/// An export stays while its version is in the store, whether or not it is still an image's head (nodes keep running
/// old versions); <see cref="Prune"/> removes it once the version is gone and no connection has it open.
/// </summary>
public sealed class ErofsExports : INbdExportSource
{
    public const string DirectoryName = "exports";
    public const string Extension = ".erofs";

    private readonly ImageStoreView _store;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ObjectId, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<ObjectId, int> _open = new();

    public ErofsExports(ImageStoreView store, string home, ILogger logger)
    {
        _store = store;
        _logger = logger;
        Directory = Path.Combine(home, DirectoryName);
        System.IO.Directory.CreateDirectory(Directory);

        // Temporary files of a build this process did not finish (a crash, a kill) are never used: remove them.
        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension + ExportOutput.TemporarySuffix))
        {
            File.Delete(stale);
        }
    }

    public string Directory { get; }

    public string PathFor(ObjectId version) => Path.Combine(Directory, version + Extension);

    /// <summary>The export of VERSION, building it now when it is not cached (seconds to minutes for a big image).</summary>
    /// <exception cref="StoreException">The version is not in the store, or the build failed (the message says why).</exception>
    public ErofsExportFile GetOrBuild(ObjectId version, CancellationToken cancellation)
    {
        var path = PathFor(version);
        if (TryCached(version, path) is { } cached)
        {
            return cached;
        }

        var gate = _gates.GetOrAdd(version, _ => new SemaphoreSlim(1, 1));
        gate.Wait(cancellation);
        try
        {
            if (TryCached(version, path) is { } builtMeanwhile)
            {
                return builtMeanwhile;
            }

            var clock = Stopwatch.StartNew();
            ServerLog.ExportBuilding(_logger, version.Short, path);
            using var lease = _store.Acquire();
            var result = new FilesystemImageExporter(lease.Repository).ExportErofs(version, path, null, cancellation);
            ServerLog.ExportBuilt(_logger, version.Short, path, result.OutputBytes, clock.Elapsed.TotalSeconds);
            return new ErofsExportFile(version, path, result.OutputBytes, FromCache: false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Builds (or finds) VERSION's export off the caller's thread.</summary>
    public Task<ErofsExportFile> GetOrBuildAsync(ObjectId version, CancellationToken cancellation) =>
        Task.Run(() => GetOrBuild(version, cancellation), cancellation);

    /// <summary>
    /// Starts building VERSION's export in the background when it is not cached, so other preparation can run
    /// meanwhile; a later <see cref="GetOrBuild"/> waits for that build instead of starting its own. A failure is
    /// logged here and met again (with its message) by that later call.
    /// </summary>
    public void Prepare(ObjectId version)
    {
        if (File.Exists(PathFor(version)))
        {
            return;
        }

        _ = Task.Run(() =>
        {
            try
            {
                GetOrBuild(version, CancellationToken.None);
            }
            catch (Exception e) when (e is StoreException or IOException or UnauthorizedAccessException)
            {
                ServerLog.ExportFailed(_logger, version.Short, e.Message);
            }
        });
    }

    /// <summary>The cached exports, their sizes and how many NBD connections use each.</summary>
    public IReadOnlyList<ErofsExportStatus> Status() =>
        [.. Cached().Select(c => new ErofsExportStatus(c.Version, c.Size, _open.GetValueOrDefault(c.Version)))];

    public IReadOnlyList<NbdExportListing> List() =>
        [.. Cached().Select(c => new NbdExportListing(c.Version.ToString(), $"erofs image of version {c.Version.Short}, {c.Size} bytes"))];

    public NbdOpenResult Open(string name, CancellationToken cancellation)
    {
        if (!ObjectId.TryParse(name, out var version) || version.ToString() != name)
        {
            return NbdOpenResult.Unknown($"'{name}' is not a version id (64 lower-case hex digits)");
        }

        if (!VersionExists(version, reopen: true))
        {
            return NbdOpenResult.Unknown($"version {version.Short} is not in the image store");
        }

        ErofsExportFile file;
        try
        {
            file = GetOrBuild(version, cancellation);
        }
        catch (StoreException e)
        {
            ServerLog.ExportFailed(_logger, version.Short, e.Message);
            return NbdOpenResult.Unavailable($"the erofs export of {version.Short} cannot be made: {e.Message}");
        }

        _open.AddOrUpdate(version, 1, (_, n) => n + 1);
        try
        {
            return new NbdOpenResult(
                NbdExport.OpenFile(name, file.Path, $"erofs image of version {version.Short}", () => _open.AddOrUpdate(version, 0, (_, n) => n - 1)),
                NbdReplyType.Ack, null);
        }
        catch (IOException e)
        {
            _open.AddOrUpdate(version, 0, (_, n) => n - 1);
            return NbdOpenResult.Unavailable($"the erofs export of {version.Short} cannot be opened: {e.Message}");
        }
    }

    /// <summary>Removes the exports of versions no longer in the store that no connection has open; returns how many.</summary>
    public int Prune()
    {
        _store.Reopen("checking which exported versions are still in the store");
        var removed = 0;
        foreach (var cached in Cached())
        {
            if (_open.GetValueOrDefault(cached.Version) > 0 || VersionExists(cached.Version, reopen: false))
            {
                continue;
            }

            var gate = _gates.GetOrAdd(cached.Version, _ => new SemaphoreSlim(1, 1));
            if (!gate.Wait(0))
            {
                continue;
            }

            try
            {
                // Checked again under the gate: a connection may have opened it since.
                if (_open.GetValueOrDefault(cached.Version) > 0)
                {
                    continue;
                }

                File.Delete(cached.Path);
                ServerLog.ExportRemoved(_logger, cached.Version.Short, cached.Path, cached.Size);
                removed++;
            }
            finally
            {
                gate.Release();
            }
        }

        return removed;
    }

    private bool VersionExists(ObjectId version, bool reopen)
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var lease = _store.Acquire())
            {
                try
                {
                    lease.Repository.ReadCommit(version);
                    return true;
                }
                catch (MissingObjectException)
                {
                    if (!reopen || attempt > 0)
                    {
                        return false;
                    }
                }
            }

            if (!_store.Reopen($"version {version.Short} not in the packs opened so far"))
            {
                return false;
            }
        }
    }

    private static ErofsExportFile? TryCached(ObjectId version, string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new ErofsExportFile(version, path, info.Length, FromCache: true) : null;
    }

    private IEnumerable<ErofsExportFile> Cached()
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (ObjectId.TryParse(name, out var version) && version.ToString() == name && TryCached(version, file) is { } cached)
            {
                yield return cached;
            }
        }
    }
}
