using Sidus.Store.Checkout;
using Sidus.Store.Import;

namespace Sidus.Store.Sync;

/// <summary>
/// The sync engine: makes a target directory exactly equal to a tree (<see cref="ITreeSource"/>), its file data from a
/// <see cref="IContentSource"/>, touching only what differs. The target may be empty, an earlier sync, a tmpfs, a fresh
/// filesystem or a running root: every change is made through directory handles that never follow symlinks, so
/// nothing outside the target is written; every file, link and node is made beside its name under a temporary name,
/// its owner, mode, xattrs and time set, then renamed over it, so a reader sees the old one or the new one; names to
/// remove go only after the new files are in place. With a state cache directory, a sync records what it left (see
/// <see cref="StateCache"/>) and the next one skips what is unchanged without reading it.
/// </summary>
public sealed class TreeSync
{
    private const uint StagingMode = 0x180; // 0600 until the entry's own metadata is set

    private static long s_temporaries;

    private readonly ITreeSource _tree;
    private readonly IContentSource _content;
    private readonly CheckoutOptions _options;
    private readonly string? _cacheDirectory;
    private readonly List<DirectoryHandle> _handles = [];
    private readonly List<WriteJob> _writes = [];
    private readonly List<WriteJob> _toWrite = [];
    private readonly List<LinkJob> _links = [];
    private readonly List<DirectoryJob> _directories = [];
    private readonly List<(DirectoryHandle Dir, byte[] Name)> _removals = [];

    /// <summary>Directories whose listing this run changed (their mtime moved); marked from several threads (deliveries of data), under its lock.</summary>
    private readonly HashSet<DirectoryHandle> _dirty = [];
    private readonly Dictionary<uint, (DirectoryHandle Dir, TreeEntry Entry, byte[] Path)> _linkPrimaries = [];

    /// <summary>Directories left holding names the tree lacks (excluded, kept, no-delete, mounts): their state-cache
    /// record says so, so the next sync reads their listing instead of trusting it.</summary>
    private readonly HashSet<DirectoryHandle> _partial = [];
    private ulong _device;

    /// <summary>The drift scan of the target (see <see cref="DriftScan"/>), when there is one.</summary>
    private DriftScan? _scan;
    private readonly Dictionary<ObjectId, List<WriteJob>> _byContent = [];
    private StateCache? _oldCache;
    private StateCache? _newCache;
    private readonly Lock _flushLock = new();
    private long _nextFlush;
    private Task? _flush;
    private long _created, _updated, _deleted, _unchanged, _bytes, _totalBytes, _done;

    /// <summary>A sync of TREE with data from CONTENT; CACHEDIRECTORY keeps the state caches (null: none kept or used).</summary>
    public TreeSync(ITreeSource tree, IContentSource content, CheckoutOptions options, string? cacheDirectory)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        _tree = tree;
        _content = content;
        _options = options;
        _cacheDirectory = cacheDirectory;
    }

    /// <summary>Checks out VERSION of the local store to TARGET (`sidus image checkout`).</summary>
    public static CheckoutResult Checkout(Repository repository, ObjectId version, string target, CheckoutOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var source = new StoreSource(repository, version);
        return new TreeSync(source, source, options, repository.CacheDirectory).Run(target, cancellation);
    }

    /// <summary>
    /// <see cref="RunAsync"/> for a source that reads locally: such a source completes synchronously (as
    /// <see cref="StoreSource"/> does), so the whole sync has when this returns, on the calling thread.
    /// </summary>
    public CheckoutResult Run(string target, CancellationToken cancellation)
    {
        var sync = RunAsync(target, cancellation);
        if (!sync.IsCompleted)
        {
            throw new InvalidOperationException("this content source is asynchronous: use RunAsync");
        }

        return sync.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Drift alone (`sidus-agent drift`): TARGET against the state cache of the sync that left it (STATEFILE), every
    /// changed path named to OPTIONS' <see cref="CheckoutOptions.OnDrift"/>; nothing is changed and no tree is needed.
    /// </summary>
    public static CheckoutResult Drift(string target, string stateFile, CheckoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (StateCache.Load(stateFile) is not { } last)
        {
            return new CheckoutResult(0, 0, 0, 0, 0);
        }

        using var scan = DriftScan.Run(target, last, options with { DryRun = true, KeepDrift = false });
        return new CheckoutResult(0, 0, 0, last.Count, 0) { DriftKnown = true, Drifted = scan.Drifted, Exact = scan.Exact, LastVersion = last.Commit };
    }

    public async Task<CheckoutResult> RunAsync(string target, CancellationToken cancellation)
    {
        // A handle per directory of the tree stays open until its metadata is set, at the end: thousands for an image.
        OpenFileLimit.Raise();
        var rootEntry = _tree.Root;
        if (!_options.DryRun)
        {
            Directory.CreateDirectory(target);
        }
        else if (!Directory.Exists(target))
        {
            // A dry run into a missing directory: everything would be created.
            CountTree(rootEntry.Tree, []);
            return Result();
        }

        var cachePath = _options.StateFile ?? (_cacheDirectory is null ? null : StateCache.PathFor(_cacheDirectory, target));
        var lastSync = cachePath is null ? null : _options.LastState ?? StateCache.Load(cachePath);
        _oldCache = _options.Checksum ? null : lastSync;
        _nextFlush = _options.FlushEvery;
        _newCache = cachePath is null ? null : StateCache.Empty(_tree.Version);
        if (!_options.DryRun && cachePath is not null)
        {
            StateCache.Invalidate(cachePath);
        }

        try
        {
            // Before anything changes: what the target holds now against what the last sync left (done already,
            // when the caller ran it while fetching the tree).
            _scan = _options.Scan ?? (_options.OnDrift is not null && lastSync is not null ? DriftScan.Run(target, lastSync, _options) : null);
            var root = DirectoryHandle.Open(target);
            _handles.Add(root);
            var rootStatus = root.Stat([]);
            _device = rootStatus.Device;

            var rootJob = new DirectoryJob(root, rootEntry, [], rootStatus, UnchangedDirectory([], rootStatus, rootEntry))
            {
                NoXattrs = KnownWithoutXattrs([], rootStatus),
            };
            SyncDirectory(root, rootEntry.Tree, [], rootJob.Unchanged, created: false, cancellation);
            CheckExisting(cancellation);
            if (!_options.DryRun)
            {
                await WriteNewAsync(cancellation);
            }

            RunLinks();
            if (!_options.DryRun)
            {
                foreach (var (dir, name) in _removals)
                {
                    dir.RemoveTree(name);
                }

                _directories.Add(rootJob);
                foreach (var job in _directories)
                {
                    FinishDirectory(job);
                }

                if (cachePath is not null)
                {
                    _newCache!.Save(cachePath);
                }

                AwaitFlush(report: true);
            }
        }
        finally
        {
            AwaitFlush(report: false);
            foreach (var handle in _handles)
            {
                handle.Dispose();
            }

            if (_options.Scan is null)
            {
                _scan?.Dispose();
            }
        }

        return Result();
    }

    private CheckoutResult Result() => new(_created, _updated, _deleted, _unchanged, _bytes) { DriftKnown = _scan is not null, Drifted = _scan?.Drifted ?? 0 };

    /// <summary>True when PATH is left alone this run: excluded, or drift kept.</summary>
    private bool Leave(byte[] path) => _options.Excludes.Contains(path) || (_scan?.Keeps(path) ?? false);

    private bool OtherFilesystem(in FileStatus status) => _options.StayOnFilesystem && status.Device != _device;

    /// <summary>A child directory's handle, kept open (and closed) with the sync's own.</summary>
    private DirectoryHandle OpenKept(DirectoryHandle dir, byte[] name)
    {
        var child = dir.OpenChild(name);
        _handles.Add(child);
        return child;
    }

    /// <summary>
    /// True when sidus itself left this directory as it is (same inode, mtime and ctime as recorded): then no name
    /// was added or removed in it since, and its listing need not be read.
    /// </summary>
    private bool UnchangedDirectory(byte[] path, FileStatus status, TreeEntry entry) =>
        _oldCache?.Lookup(path, status) is { } cached && cached.Content == entry.Tree && !cached.HasXattrs && entry.Xattrs.Count == 0;

    /// <summary>True when the last sync left this directory as it is and it had no xattrs then: none need reading.</summary>
    private bool KnownWithoutXattrs(byte[] path, FileStatus status) => _oldCache?.Lookup(path, status) is { HasXattrs: false };

    /// <summary>Sets a directory's own metadata once everything inside it is done (writing inside changes mtime).</summary>
    private void FinishDirectory(DirectoryJob job)
    {
        var status = job.Status;
        var settled = job.Unchanged && !_dirty.Contains(job.Handle) && status.Uid == job.Entry.Uid &&
                      status.Gid == job.Entry.Gid && status.Permissions == job.Entry.Permissions &&
                      status.MtimeSeconds == job.Entry.MtimeSeconds && status.MtimeNanoseconds == job.Entry.MtimeNanoseconds;
        if (!settled)
        {
            // A directory this run created is reported as created, not also as changed.
            ApplyMetadata(job.Handle, [], job.Entry, job.Handle.Stat([]), readXattrs: !job.NoXattrs, job.Created ? [] : job.Path);
            status = job.Handle.Stat([]);
        }

        // A directory's record holds the tree it was made equal to: its listing is known only for that tree.
        _newCache?.Add(job.Path, status, _partial.Contains(job.Handle) ? ObjectId.Zero : job.Entry.Tree, null, job.Entry.Xattrs.Count > 0);
    }

    private void SyncDirectory(DirectoryHandle dir, ObjectId treeId, byte[] relative, bool unchanged, bool created, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var desired = _tree.ReadTree(treeId);
        // A directory this walk made holds nothing yet: neither listed nor any of its names stat-ed (an install
        // saves a stat per file).
        var scanned = created ? new ScannedDirectory(dir, []) : _scan?.Listing(relative);
        if (!unchanged && !created)
        {
            var wanted = new HashSet<byte[]>(desired.Select(e => e.Name), ByteComparer.Instance);
            foreach (var name in scanned?.Names ?? dir.ReadEntries().Select(e => e.Name))
            {
                if (!wanted.Contains(name))
                {
                    var leftover = name.AsSpan().StartsWith(".sidus-"u8);
                    var kept = DirectoryHandle.Join(relative, name);
                    if (!leftover && (_options.NoDelete || Leave(kept) || _options.Excludes.HoldsExcluded(kept) ||
                                      (_options.StayOnFilesystem && Stat(dir, scanned, name, out var other, out _) && OtherFilesystem(other))))
                    {
                        _partial.Add(dir);
                        continue;
                    }

                    // Removed once the new files are in place: a running root keeps working meanwhile.
                    Change(SyncAction.Delete, kept, ref _deleted);
                    if (!_options.DryRun)
                    {
                        _removals.Add((dir, name));
                        MarkDirty(dir);
                    }
                }
            }
        }

        foreach (var entry in desired)
        {
            var path = DirectoryHandle.Join(relative, entry.Name);
            if (Leave(path))
            {
                continue;
            }

            var exists = Stat(dir, scanned, entry.Name, out var status, out var errno);
            if (!exists && errno != Errno.ENOENT)
            {
                throw new LinuxException(errno, "stat", LinuxException.Printable(path));
            }

            if (exists && OtherFilesystem(status))
            {
                continue;
            }

            if (exists && status.Kind != entry.Kind)
            {
                // A file, link or node is replaced by the rename of its successor; a directory cannot be, nor
                // renamed over, so it goes (or the old name goes, for a new directory) first.
                Change(SyncAction.Delete, path, ref _deleted);
                if (!_options.DryRun && (status.Kind == FileKind.Directory || entry.Kind == FileKind.Directory))
                {
                    dir.RemoveTree(entry.Name);
                    MarkDirty(dir);
                }

                exists = false;
            }

            switch (entry.Kind)
            {
                case FileKind.Directory:
                    SyncSubdirectory(dir, entry, path, exists ? status : null, cancellation);
                    break;
                case FileKind.Regular when entry.LinkGroup != 0 && _linkPrimaries.ContainsKey(entry.LinkGroup):
                    _links.Add(new LinkJob(dir, entry, path, exists ? status : null));
                    break;
                case FileKind.Regular:
                    if (entry.LinkGroup != 0)
                    {
                        _linkPrimaries[entry.LinkGroup] = (dir, entry, path);
                    }

                    PlanFile(dir, entry, path, exists ? status : null);
                    break;
                default:
                    if (entry.LinkGroup != 0 && _linkPrimaries.ContainsKey(entry.LinkGroup))
                    {
                        _links.Add(new LinkJob(dir, entry, path, exists ? status : null));
                        break;
                    }

                    if (entry.LinkGroup != 0)
                    {
                        _linkPrimaries[entry.LinkGroup] = (dir, entry, path);
                    }

                    SyncSpecial(dir, entry, path, exists ? status : null);
                    break;
            }
        }
    }

    /// <summary>NAME's status in DIR: as the drift scan found it (SCANNED, its listing of DIR), or from the filesystem.</summary>
    private static bool Stat(DirectoryHandle dir, ScannedDirectory? scanned, byte[] name, out FileStatus status, out int errno)
    {
        if (scanned is null || (scanned.TryFind(name, out var found) && found is null))
        {
            return dir.TryStat(name, out status, out errno);
        }

        if (found is { } known)
        {
            (status, errno) = (known, 0);
            return true;
        }

        // Not in the listing: not there (this walk has not made it yet).
        (status, errno) = (default, Errno.ENOENT);
        return false;
    }

    private void SyncSubdirectory(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? existing, CancellationToken cancellation)
    {
        if (existing is null)
        {
            Change(SyncAction.Create, path, ref _created);
            if (_options.DryRun)
            {
                CountTree(entry.Tree, path);
                return;
            }

            dir.CreateDirectory(entry.Name, 0x1C0);
            MarkDirty(dir);
        }

        // The scan's handle is this directory's: the walk removes a directory only where the tree has something else.
        var child = existing is not null && _scan?.Listing(path) is { } scanned ? scanned.Handle : OpenKept(dir, entry.Name);
        var status = existing ?? child.Stat([]);
        var unchanged = existing is not null && UnchangedDirectory(path, status, entry);
        SyncDirectory(child, entry.Tree, path, unchanged, created: existing is null, cancellation);
        if (!_options.DryRun)
        {
            _directories.Add(new DirectoryJob(child, entry, path, status, unchanged)
            {
                Created = existing is null,
                NoXattrs = existing is null || KnownWithoutXattrs(path, status),
            });
        }
    }

    private void PlanFile(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? existing)
    {
        _totalBytes += entry.DataLength;
        if (existing is not { } status)
        {
            Change(SyncAction.Create, path, ref _created);
            _writes.Add(new WriteJob(dir, entry, path, null, KnownSame: false));
            return;
        }

        if (_oldCache?.Lookup(path, status) is { } cached)
        {
            var same = cached.Content == entry.Content && SameExtents(cached.Extents, entry.Extents) && status.Size == entry.Size;
            _writes.Add(new WriteJob(dir, entry, path, status, KnownSame: same) { CacheHit = !cached.HasXattrs && entry.Xattrs.Count == 0 });
            return;
        }

        _writes.Add(new WriteJob(dir, entry, path, status, KnownSame: false));
    }

    private void SyncSpecial(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? existing)
    {
        if (existing is { } known && _oldCache?.Lookup(path, known) is { } cached && !cached.HasXattrs &&
            entry.Xattrs.Count == 0 && cached.Content == SpecialIdentity(entry))
        {
            // Left by sidus as it is (symlinks and nodes are replaced, never edited): only owner, mode and time to check.
            var settled = known.Uid == entry.Uid && known.Gid == entry.Gid && known.MtimeSeconds == entry.MtimeSeconds &&
                          known.MtimeNanoseconds == entry.MtimeNanoseconds &&
                          (entry.Kind == FileKind.Symlink || known.Permissions == entry.Permissions);
            if (!settled)
            {
                ApplyMetadata(dir, entry.Name, entry, known, readXattrs: false, path);
            }

            RecordSpecial(dir, entry, path, settled ? known : null);
            return;
        }

        var same = existing is { } status && entry.Kind switch
        {
            FileKind.Symlink => dir.ReadLink(entry.Name).AsSpan().SequenceEqual(entry.Target),
            FileKind.CharDevice or FileKind.BlockDevice => status.RdevMajor == entry.RdevMajor && status.RdevMinor == entry.RdevMinor,
            _ => true,
        };
        if (same)
        {
            ApplyMetadata(dir, entry.Name, entry, existing!.Value, readXattrs: true, path);
            RecordSpecial(dir, entry, path, null);
            return;
        }

        Change(existing is null ? SyncAction.Create : SyncAction.Replace, path, ref existing is null ? ref _created : ref _updated);
        if (_options.DryRun)
        {
            return;
        }

        var temp = TempName();
        if (entry.Kind == FileKind.Symlink)
        {
            dir.CreateSymlink(temp, entry.Target!);
        }
        else
        {
            dir.CreateNode(temp, entry.Kind, 0, entry.RdevMajor, entry.RdevMinor);
        }

        ApplyMetadata(dir, temp, entry, dir.Stat(temp), readXattrs: false, path);
        dir.Rename(temp, entry.Name);
        MarkDirty(dir);
        RecordSpecial(dir, entry, path, null);
    }

    /// <summary>What a symlink or node is, as one id: the state cache tells by it whether the one on disk is the wanted one.</summary>
    private static ObjectId SpecialIdentity(TreeEntry entry) => entry.Kind switch
    {
        FileKind.Symlink => ObjectId.Hash(entry.Target),
        _ => ObjectId.Hash(System.Text.Encoding.ASCII.GetBytes($"{(int)entry.Kind}:{entry.RdevMajor}:{entry.RdevMinor}")),
    };

    private void RecordSpecial(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? unchanged)
    {
        if (!_options.DryRun && entry.LinkGroup == 0 && _newCache is not null)
        {
            _newCache.Add(path, unchanged ?? dir.Stat(entry.Name), SpecialIdentity(entry), null, entry.Xattrs.Count > 0);
        }
    }

    /// <summary>
    /// Files already at the target: those whose data is the wanted one (the state cache says so, or their bytes hash
    /// to it) only get their metadata set; the rest are queued to be written. Hashing runs on all cores.
    /// </summary>
    private void CheckExisting(CancellationToken cancellation)
    {
        WorkerThreads.ForEach(_writes, job =>
        {
            var same = job.KnownSame || (job.Existing is { } status && !job.CacheHit && ContentMatches(job.Dir, job.Entry, status));
            if (!same)
            {
                if (job.Existing is not null)
                {
                    Change(SyncAction.Update, job.Path, ref _updated);
                }

                lock (_toWrite)
                {
                    _toWrite.Add(job);
                }

                return;
            }

            var changed = ApplyMetadata(job.Dir, job.Entry.Name, job.Entry, job.Existing!.Value, readXattrs: !job.CacheHit, job.Path);
            if (!changed)
            {
                Interlocked.Increment(ref _unchanged);
            }

            Record(job.Dir, job.Entry, job.Path, changed ? null : job.Existing);
        }, cancellation);
    }

    /// <summary>Writes the queued files: those without data at once, the rest as the content source hands their data over.</summary>
    private async ValueTask WriteNewAsync(CancellationToken cancellation)
    {
        var wanted = new List<ContentWant>();
        var empty = new List<WriteJob>();
        foreach (var job in _toWrite)
        {
            if (job.Entry.DataLength == 0)
            {
                empty.Add(job);
            }
            else if (_byContent.TryGetValue(job.Entry.Content, out var same))
            {
                same.Add(job);
            }
            else
            {
                _byContent.Add(job.Entry.Content, [job]);
                wanted.Add(new ContentWant(job.Entry.Content, job.Entry.DataLength));
            }
        }

        // The stage starts here: the first report marks when bytes began to move, so the rate shown is right.
        _options.Progress?.Report(new TransferProgress("writing files", Interlocked.Read(ref _done), _writes.Count, Interlocked.Read(ref _bytes), _totalBytes));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var delivering = _content.DeliverAsync(wanted, (content, data) => WriteFiles(_byContent[content], data), stop.Token).AsTask();
        try
        {
            // Files without data need no content: written while the first contents come (an image has hundreds).
            foreach (var job in empty)
            {
                WriteFiles([job], []);
            }
        }
        catch
        {
            await stop.CancelAsync();
            await delivering.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            throw;
        }

        await delivering;
        _options.Progress?.Report(new TransferProgress("writing files", _writes.Count, _writes.Count, _bytes, _totalBytes));
    }

    /// <summary>
    /// Writes DATA into each of JOBS (files with the same content) under a temporary name, sets their metadata and
    /// renames them into place; if the data fails on the way, the temporary files are removed and nothing changed.
    /// </summary>
    private void WriteFiles(List<WriteJob> jobs, IEnumerable<ReadOnlyMemory<byte>> data)
    {
        var temps = new List<(WriteJob Job, byte[] Name, SafeFileHandle File, SparseCursor Cursor)>(jobs.Count);
        try
        {
            foreach (var job in jobs)
            {
                var temp = TempName();
                temps.Add((job, temp, job.Dir.OpenFile(temp, OpenFlags.CreateExclusiveReadWrite, StagingMode), new SparseCursor(job.Entry)));
            }

            foreach (var piece in data)
            {
                foreach (var (job, _, file, cursor) in temps)
                {
                    try
                    {
                        for (var left = piece.Span; !left.IsEmpty;)
                        {
                            var n = cursor.Next(left.Length, out var offset);
                            FileOps.WriteAt(file, left[..n], offset);
                            left = left[n..];
                        }
                    }
                    catch (LinuxException e)
                    {
                        // Named by the file it was for, not its temporary name (a full disk says where it filled).
                        throw new LinuxException(e.Errno, "write", "/" + LinuxException.Printable(job.Path));
                    }
                }

                FlushAhead(Interlocked.Add(ref _bytes, (long)piece.Length * temps.Count));
            }

            foreach (var (job, _, file, _) in temps)
            {
                if (job.Entry.Extents is not null || job.Entry.DataLength == 0)
                {
                    FileOps.Truncate(file, job.Entry.Size);
                }

                file.Dispose();
            }
        }
        catch
        {
            foreach (var (job, temp, file, _) in temps)
            {
                file.Dispose();
                job.Dir.Unlink(temp);
            }

            throw;
        }

        foreach (var (job, temp, _, _) in temps)
        {
            ApplyMetadata(job.Dir, temp, job.Entry, job.Dir.Stat(temp), readXattrs: false, job.Path);
            job.Dir.Rename(temp, job.Entry.Name);
            MarkDirty(job.Dir);
            Record(job.Dir, job.Entry, job.Path);
            var done = Interlocked.Increment(ref _done);
            if ((done & 255) == 0)
            {
                _options.Progress?.Report(new TransferProgress("writing files", done, _writes.Count, Interlocked.Read(ref _bytes), _totalBytes));
            }
        }
    }

    private bool ContentMatches(DirectoryHandle dir, TreeEntry entry, FileStatus status)
    {
        if (status.Size != entry.Size)
        {
            return false;
        }

        using var file = dir.OpenRead(entry.Name);
        IReadOnlyList<Extent>? extents = null;
        if (status.MayBeSparse)
        {
            var found = FileOps.DataExtents(file, status.Size);
            if (found.Count != 1 || found[0] != (0, status.Size))
            {
                extents = found.Select(e => new Extent(e.Offset, e.Length)).ToList();
            }
        }

        if (!SameExtents(extents, entry.Extents))
        {
            return false;
        }

        if (entry.DataLength == 0)
        {
            return true;
        }

        // Through ObjectId's hook: in an initramfs (no OpenSSL) the agent's own SHA-256.
        using var hash = ObjectId.StartHash();
        // Pooled: a check of every file (a first sync over an old tree) would otherwise make a large object per file.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            foreach (var e in extents ?? [new Extent(0, status.Size)])
            {
                for (long at = 0; at < e.Length;)
                {
                    var n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, e.Length - at)), e.Offset + at);
                    if (n == 0)
                    {
                        return false;
                    }

                    hash.Append(buffer.AsSpan(0, n));
                    at += n;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return hash.Finish() == entry.Content;
    }

    private void RunLinks()
    {
        var relinked = new HashSet<uint>();
        foreach (var job in _links)
        {
            var (primaryDir, primaryEntry, _) = _linkPrimaries[job.Entry.LinkGroup];
            var primaryName = primaryEntry.Name;
            if (_options.DryRun)
            {
                if (job.Existing is null || !primaryDir.TryStat(primaryName, out var p, out _) || p.Inode != job.Existing.Value.Inode)
                {
                    Change(SyncAction.Link, job.Path, ref _created);
                }

                continue;
            }

            var primary = primaryDir.Stat(primaryName);
            if (job.Existing is { } existing && existing.Inode == primary.Inode && existing.Device == primary.Device)
            {
                Interlocked.Increment(ref _unchanged);
            }
            else
            {
                Change(SyncAction.Link, job.Path, ref _created);
                var temp = TempName();
                job.Dir.CreateHardLink(temp, primaryDir, primaryName);
                job.Dir.Rename(temp, job.Entry.Name);
                MarkDirty(job.Dir);
            }

            if (job.Entry.Kind == FileKind.Regular)
            {
                relinked.Add(job.Entry.LinkGroup);
            }
        }

        // Making a link moves the ctime of every name of the file: each is recorded once they all are made.
        foreach (var job in _links.Where(j => relinked.Contains(j.Entry.LinkGroup)))
        {
            Record(job.Dir, job.Entry, job.Path);
        }

        foreach (var group in relinked)
        {
            var (dir, entry, path) = _linkPrimaries[group];
            Record(dir, entry, path);
        }
    }

    /// <summary>Sets owner, permissions, xattrs and mtime where they differ; true if anything changed.</summary>
    private bool ApplyMetadata(DirectoryHandle dir, byte[] name, TreeEntry entry, FileStatus status, bool readXattrs, byte[] path)
    {
        var changed = false;
        var ownerDiffers = status.Uid != entry.Uid || status.Gid != entry.Gid;
        // chown clears setuid/setgid and file capabilities: when it happens, everything after it is set again.
        var permissionsDiffer = ownerDiffers || (entry.Kind != FileKind.Symlink && status.Permissions != entry.Permissions);
        var current = readXattrs ? dir.ReadXattrs(name) : [];
        var xattrsDiffer = ownerDiffers ? entry.Xattrs.Count > 0 : !SameXattrs(current, entry.Xattrs);
        var timeDiffers = status.MtimeSeconds != entry.MtimeSeconds || status.MtimeNanoseconds != entry.MtimeNanoseconds;
        if (!(ownerDiffers || permissionsDiffer || xattrsDiffer || timeDiffers))
        {
            return false;
        }

        if (path.Length > 0 && !name.AsSpan().StartsWith(".sidus-"u8))
        {
            Change(SyncAction.Metadata, path, ref _updated);
            changed = true;
        }

        if (_options.DryRun)
        {
            return changed;
        }

        if (ownerDiffers)
        {
            dir.SetOwner(name, entry.Uid, entry.Gid);
        }

        if (permissionsDiffer && entry.Kind != FileKind.Symlink)
        {
            dir.SetPermissions(name, entry.Permissions);
        }

        if (xattrsDiffer || ownerDiffers)
        {
            var desired = new HashSet<byte[]>(entry.Xattrs.Select(x => x.Key), ByteComparer.Instance);
            foreach (var (key, _) in ownerDiffers ? dir.ReadXattrs(name) : current)
            {
                if (!desired.Contains(key))
                {
                    dir.RemoveXattr(name, key);
                }
            }

            foreach (var (key, value) in entry.Xattrs)
            {
                SetXattr(dir, name, key, value);
            }
        }

        dir.SetModificationTime(name, entry.MtimeSeconds, entry.MtimeNanoseconds);
        return true;
    }

    private void SetXattr(DirectoryHandle dir, byte[] name, byte[] key, byte[] value)
    {
        try
        {
            dir.SetXattr(name, key, value);
        }
        catch (LinuxException e) when (e.Errno is Errno.EOPNOTSUPP or Errno.EPERM && _options.OnXattrRefused is { } refused)
        {
            refused(key);
        }
    }

    private void Record(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? unchanged = null)
    {
        if (_options.DryRun || _newCache is null)
        {
            return;
        }

        _newCache.Add(path, unchanged ?? dir.Stat(entry.Name), entry.Content, entry.Extents, entry.Xattrs.Count > 0);
    }

    private void CountTree(ObjectId treeId, byte[] relative)
    {
        foreach (var entry in _tree.ReadTree(treeId))
        {
            var path = DirectoryHandle.Join(relative, entry.Name);
            Change(SyncAction.Create, path, ref _created);
            if (entry.Kind == FileKind.Directory)
            {
                CountTree(entry.Tree, path);
            }
        }
    }

    /// <summary>
    /// Starts a background flush of the target's filesystem once <see cref="CheckoutOptions.FlushEvery"/> more bytes
    /// were written since the last one began (one at a time). Without it the kernel writes nothing back until the
    /// caller's final flush (its threshold is a tenth of the memory): an install of 390 MiB then waited 0.36 s for
    /// its disk at the end, where the writes could have run beside the decompression.
    /// </summary>
    private void FlushAhead(long written)
    {
        if (_options.FlushEvery <= 0 || written < Interlocked.Read(ref _nextFlush))
        {
            return;
        }

        lock (_flushLock)
        {
            // One at a time; a failed one is kept for the end of the sync to report (syncfs tells an error once).
            if (written < _nextFlush || _flush is { IsCompletedSuccessfully: false })
            {
                return;
            }

            _nextFlush = written + _options.FlushEvery;
            _flush = Task.Run(_handles[0].SyncFilesystem);
        }
    }

    /// <summary>
    /// Waits for the last background flush, which uses the root's handle: its write-back error fails the sync when
    /// REPORT (the sync went well so far), and is not news after another failure.
    /// </summary>
    private void AwaitFlush(bool report)
    {
        Task? flush;
        lock (_flushLock)
        {
            flush = _flush;
        }

        if (flush is null)
        {
            return;
        }

        if (report)
        {
            flush.GetAwaiter().GetResult();
        }
        else
        {
            ((IAsyncResult)flush).AsyncWaitHandle.WaitOne();
        }
    }

    private void MarkDirty(DirectoryHandle dir)
    {
        lock (_dirty)
        {
            _dirty.Add(dir);
        }
    }

    private void Change(SyncAction action, byte[] path, ref long counter)
    {
        Interlocked.Increment(ref counter);
        _options.OnChange?.Invoke(action, path);
    }

    private static bool SameExtents(IReadOnlyList<Extent>? a, IReadOnlyList<Extent>? b) =>
        (a is null && b is null) || (a is not null && b is not null && a.SequenceEqual(b));

    private static bool SameXattrs(IReadOnlyList<KeyValuePair<byte[], byte[]>> a, IReadOnlyList<KeyValuePair<byte[], byte[]>> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!a[i].Key.AsSpan().SequenceEqual(b[i].Key) || !a[i].Value.AsSpan().SequenceEqual(b[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A name no other file has: process, a counter and a random number (the temporary file is created exclusively
    /// anyway). Not a Guid: Guid.NewGuid needs the kernel's secure random source, which the node agent (init in an
    /// initramfs, this engine's other user) may not have.
    /// </summary>
    private static byte[] TempName() => System.Text.Encoding.ASCII.GetBytes(
        $".sidus-{Environment.ProcessId:x}-{Interlocked.Increment(ref s_temporaries):x}-{Random.Shared.NextInt64():x16}");

    private sealed record WriteJob(DirectoryHandle Dir, TreeEntry Entry, byte[] Path, FileStatus? Existing, bool KnownSame)
    {
        public bool CacheHit { get; init; }
    }

    private sealed record DirectoryJob(DirectoryHandle Handle, TreeEntry Entry, byte[] Path, FileStatus Status, bool Unchanged)
    {
        public bool Created { get; init; }

        /// <summary>It has no xattrs to read: this run made it, or the last sync left it without any.</summary>
        public bool NoXattrs { get; init; }
    }

    private sealed record LinkJob(DirectoryHandle Dir, TreeEntry Entry, byte[] Path, FileStatus? Existing);
}
