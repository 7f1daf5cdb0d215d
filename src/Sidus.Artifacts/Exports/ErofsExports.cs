using System.Diagnostics;
using Sidus.Wire.Nbd;
using Sidus.Artifacts.Verity;
using Sidus.Artifacts.Versions;
using Sidus.Store.Export;

namespace Sidus.Artifacts.Exports;

/// <summary>
/// A version's erofs export file: the erofs image zero-padded to 4096 bytes, then its dm-verity hash tree; VERITY says
/// where the tree starts and what its root hash is.
/// </summary>
public sealed record ErofsExportFile(ObjectId Version, string Path, long Size, bool FromCache, VerityInfo Verity);

/// <summary>One cached export as the status page shows it.</summary>
public sealed record ErofsExportStatus(ObjectId Version, long Size, int OpenConnections);

/// <summary>
/// The erofs image of each version that diskless nodes mount over NBD, cached as HOME/exports/VERSION.erofs and
/// built by the store's erofs exporter, followed by its dm-verity hash tree (salted with the version id) that nodes
/// check every block they read against. A version always builds to the same bytes (the exporter fixes mkfs.erofs's
/// build time and UUID), so a rebuild keeps the root hash; the record is still rewritten with the file it describes. The build goes to a temporary file that
/// is renamed into place when complete (never a partial file; never stale, since a version never changes); the
/// tree's root hash, salt and data block count are then recorded in HOME/exports/VERSION.verity. An export without
/// that record (an older Sidus made it, or the server stopped between the two renames) is built again and renamed over
/// the old one: NBD connections that have the old file open keep reading it. Builds are started by
/// <see cref="VersionArtifacts"/> (one per version at a time, on its workers); <see cref="TryCached"/> only looks.
/// An export stays while its version is in the store, whether or not it is still an image's head (nodes keep running
/// old versions); <see cref="Prune"/> removes it once the version is gone and no connection has it open.
/// </summary>
public sealed class ErofsExports
{
    public const string DirectoryName = "exports";
    public const string Extension = ".erofs";
    public const string VerityExtension = ".verity";

    /// <summary>The exporter's output before its hash tree is appended (the exporter itself adds ".tmp" while writing).</summary>
    public const string BuildSuffix = ".build";

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
        string[] stalePatterns =
        [
            "*" + Extension + ExportOutput.TemporarySuffix,
            "*" + Extension + BuildSuffix,
            "*" + Extension + BuildSuffix + ExportOutput.TemporarySuffix,
            "*" + VerityExtension + ExportOutput.TemporarySuffix,
        ];
        foreach (var stale in stalePatterns.SelectMany(p => System.IO.Directory.EnumerateFiles(Directory, p)))
        {
            File.Delete(stale);
        }
    }

    public string Directory { get; }

    public string PathFor(ObjectId version) => Path.Combine(Directory, version + Extension);

    /// <summary>Where VERSION's dm-verity record (<see cref="VerityInfo.KernelArgument"/>, one line) is kept.</summary>
    public string VerityPathFor(ObjectId version) => Path.Combine(Directory, version + VerityExtension);

    /// <summary>The dm-verity salt of VERSION's export: its id (fixed per version, nothing secret to keep).</summary>
    public static byte[] SaltFor(ObjectId version)
    {
        var salt = new byte[ObjectId.Size];
        version.Write(salt);
        return salt;
    }

    /// <summary>The export of VERSION, building it now when it is not cached (seconds to minutes for a big image).</summary>
    /// <exception cref="StoreException">The version is not in the store, or the build failed (the message says why).</exception>
    public ErofsExportFile GetOrBuild(ObjectId version, CancellationToken cancellation)
    {
        var path = PathFor(version);
        if (TryCached(version) is { } cached)
        {
            return cached;
        }

        var gate = _gates.GetOrAdd(version, _ => new SemaphoreSlim(1, 1));
        gate.Wait(cancellation);
        try
        {
            if (TryCached(version) is { } builtMeanwhile)
            {
                return builtMeanwhile;
            }

            var clock = Stopwatch.StartNew();
            ArtifactsLog.ExportBuilding(_logger, version.Short, path);
            using var lease = _store.Acquire();
            var build = path + BuildSuffix;
            try
            {
                var result = new FilesystemImageExporter(lease.Repository).ExportErofs(version, build, null, cancellation);
                var erofsSeconds = clock.Elapsed.TotalSeconds;
                var verity = VerityTree.Append(build, SaltFor(version), cancellation);
                AtomicFile.Commit(build, path);
                AtomicFile.WriteText(VerityPathFor(version), verity.KernelArgument + "\n");
                var size = new FileInfo(path).Length;
                ArtifactsLog.ExportBuilt(_logger, version.Short, path, size, clock.Elapsed.TotalSeconds);
                ArtifactsLog.ExportVerity(_logger, version.Short, result.OutputBytes, verity.TreeBytes, clock.Elapsed.TotalSeconds - erofsSeconds, verity.KernelArgument);
                return new ErofsExportFile(version, path, size, FromCache: false, verity);
            }
            finally
            {
                File.Delete(build);
                // A build reads the whole version through the store (hundreds of MiB of buffers): give that memory
                // back now rather than keep it for a server that mostly idles between builds.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The cached exports, their sizes and how many NBD connections use each.</summary>
    public IReadOnlyList<ErofsExportStatus> Status() =>
        [.. Cached().Select(c => new ErofsExportStatus(c.Version, c.Size, _open.GetValueOrDefault(c.Version)))];

    public IReadOnlyList<NbdExportListing> List() =>
        [.. Cached().Select(c => new NbdExportListing(c.Version.ToString(), $"erofs image of version {c.Version.Short}, {c.Size} bytes"))];

    /// <summary>Opens FILE (an export <see cref="GetOrBuild"/> returned) for an NBD connection, counted until it is closed.</summary>
    public NbdOpenResult Open(ErofsExportFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var version = file.Version;
        var name = version.ToString();
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

    /// <summary>Removes the exports (and their dm-verity records) of versions no longer in the store that no connection has open; returns how many.</summary>
    public int Prune()
    {
        _store.Reopen("checking which exported versions are still in the store");
        var removed = 0;
        foreach (var cached in Cached())
        {
            if (_open.GetValueOrDefault(cached.Version) > 0 || _store.HasVersion(cached.Version, reopen: false))
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

                File.Delete(VerityPathFor(cached.Version));
                File.Delete(cached.Path);
                ArtifactsLog.ExportRemoved(_logger, cached.Version.Short, cached.Path, cached.Size);
                removed++;
            }
            finally
            {
                gate.Release();
            }
        }

        return removed;
    }

    /// <summary>
    /// For `sidus store gc`, beside or without a server: removes from HOME's exports the export and dm-verity record
    /// of every version <paramref name="isLive"/> says is gone, except an export some process (a server streaming it
    /// to a node) has open: the server removes that one itself once its last connection closes (<see cref="Prune"/>).
    /// </summary>
    public static IReadOnlyList<(string Path, long Bytes)> PruneGone(string home, Func<ObjectId, bool> isLive)
    {
        var directory = Path.Combine(home, DirectoryName);
        var removed = new List<(string, long)>();
        if (!System.IO.Directory.Exists(directory))
        {
            return removed;
        }

        var files = System.IO.Directory.EnumerateFiles(directory).ToList();
        var open = OpenFileHolders.OpenAmong(files.Where(f => f.EndsWith(Extension, StringComparison.Ordinal)).ToList());
        foreach (var file in files)
        {
            if (open.Contains(Path.GetFullPath(file)) || open.Contains(Path.GetFullPath(Path.ChangeExtension(file, Extension))))
            {
                continue;
            }

            var fileName = Path.GetFileName(file);
            var stem = fileName.EndsWith(Extension, StringComparison.Ordinal) ? fileName[..^Extension.Length]
                : fileName.EndsWith(VerityExtension, StringComparison.Ordinal) ? fileName[..^VerityExtension.Length]
                : null;
            if (stem is not null && ObjectId.TryParse(stem, out var version) && version.ToString() == stem && !isLive(version))
            {
                var bytes = new FileInfo(file).Length;
                File.Delete(file);
                removed.Add((file, bytes));
            }
        }

        return removed;
    }

    /// <summary>VERSION's export when it and its dm-verity record are both in place and agree; otherwise null (build it).</summary>
    public ErofsExportFile? TryCached(ObjectId version)
    {
        var path = PathFor(version);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(VerityPathFor(version));
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        // A record that does not describe this file (damaged, or another salt) is treated like a missing one.
        if (!VerityInfo.TryParse(text, out var verity, out var problem)
            || !verity!.Salt.AsSpan().SequenceEqual(SaltFor(version))
            || info.Length != (verity.DataBlocks * VerityTree.BlockSize) + verity.TreeBytes)
        {
            ArtifactsLog.ExportVerityInvalid(_logger, version.Short, VerityPathFor(version), problem ?? "it does not describe the export file");
            return null;
        }

        return new ErofsExportFile(version, path, info.Length, FromCache: true, verity);
    }

    /// <summary>Every export file in the directory, with or without its dm-verity record (prune removes both kinds).</summary>
    private IEnumerable<(ObjectId Version, string Path, long Size)> Cached()
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var info = new FileInfo(file);
            if (ObjectId.TryParse(name, out var version) && version.ToString() == name && info.Exists)
            {
                yield return (version, file, info.Length);
            }
        }
    }
}
