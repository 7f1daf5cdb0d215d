using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Sidus.Linux;
using Sidus.Store.Import;
using Sidus.Store.Objects;
using Sidus.Store.Trees;

namespace Sidus.Store.Checkout;

/// <summary>What a sync did (or, on a dry run, would do) to one path.</summary>
public enum SyncAction
{
    Create,
    Replace,
    Update,
    Metadata,
    Delete,
    Link,
}

public sealed record CheckoutOptions
{
    /// <summary>List what would change without changing anything.</summary>
    public bool DryRun { get; init; }

    /// <summary>Ignore the state cache: re-hash every existing file before trusting it.</summary>
    public bool Checksum { get; init; }

    /// <summary>Called for every change (from several threads).</summary>
    public Action<SyncAction, byte[]>? OnChange { get; init; }

    public IProgress<TransferProgress>? Progress { get; init; }
}

public sealed record CheckoutResult(long Created, long Updated, long Deleted, long Unchanged, long BytesWritten);

/// <summary>
/// The sync engine: makes a directory exactly equal to a version, touching only what differs. Every change is
/// made through directory handles that never follow symlinks, so nothing outside the target is ever written;
/// new content is written to a temporary name and renamed into place, so a reader sees the old file or the new one.
/// </summary>
public sealed class CheckoutEngine
{
    private const uint StagingMode = 0x180; // 0600 until the entry's own metadata is set

    private readonly Repository _repository;
    private readonly CheckoutOptions _options;
    private readonly List<DirectoryHandle> _handles = [];
    private readonly List<WriteJob> _writes = [];
    private readonly List<LinkJob> _links = [];
    private readonly List<DirectoryJob> _directories = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<DirectoryHandle, byte> _dirty = new();
    private readonly Dictionary<uint, (DirectoryHandle Dir, byte[] Name, byte[] Path)> _linkPrimaries = [];
    private StateCache? _oldCache;
    private StateCache _newCache = StateCache.Empty(ObjectId.Zero);
    private long _created, _updated, _deleted, _unchanged, _bytes, _totalBytes, _done;

    public CheckoutEngine(Repository repository, CheckoutOptions options)
    {
        _repository = repository;
        _options = options;
    }

    public CheckoutResult Run(ObjectId commitId, string target, CancellationToken cancellation)
    {
        var commit = _repository.ReadCommit(commitId);
        if (!_options.DryRun)
        {
            Directory.CreateDirectory(target);
        }
        else if (!Directory.Exists(target))
        {
            // A dry run into a missing directory: everything would be created.
            CountTree(commit.Root.Tree, []);
            return Result();
        }

        var cachePath = StateCache.PathFor(_repository.CacheDirectory, target);
        _oldCache = _options.Checksum ? null : StateCache.Load(cachePath);
        _newCache = StateCache.Empty(commitId);
        if (!_options.DryRun)
        {
            StateCache.Invalidate(cachePath);
        }

        var root = DirectoryHandle.Open(target);
        _handles.Add(root);
        try
        {
            var rootStatus = root.Stat([]);
            var rootJob = new DirectoryJob(root, commit.Root, [], rootStatus, UnchangedDirectory([], rootStatus, commit.Root));
            SyncDirectory(root, commit.Root.Tree, [], rootJob.Unchanged, cancellation);
            RunWrites(cancellation);
            RunLinks();
            if (!_options.DryRun)
            {
                _directories.Add(rootJob);
                foreach (var job in _directories)
                {
                    FinishDirectory(job);
                }

                _newCache.Save(cachePath);
            }
        }
        finally
        {
            foreach (var handle in _handles)
            {
                handle.Dispose();
            }
        }

        return Result();
    }

    private CheckoutResult Result() => new(_created, _updated, _deleted, _unchanged, _bytes);

    /// <summary>
    /// True when sidus itself left this directory as it is (same inode, mtime and ctime as recorded): then no name
    /// was added or removed in it since, and its listing need not be read.
    /// </summary>
    private bool UnchangedDirectory(byte[] path, FileStatus status, TreeEntry entry) =>
        _oldCache?.Lookup(path, status) is { } cached && cached.Content == entry.Tree && !cached.HasXattrs && entry.Xattrs.Count == 0;

    /// <summary>Sets a directory's own metadata once everything inside it is done (writing inside changes mtime).</summary>
    private void FinishDirectory(DirectoryJob job)
    {
        var status = job.Status;
        var settled = job.Unchanged && !_dirty.ContainsKey(job.Handle) && status.Uid == job.Entry.Uid &&
                      status.Gid == job.Entry.Gid && status.Permissions == job.Entry.Permissions &&
                      status.MtimeSeconds == job.Entry.MtimeSeconds && status.MtimeNanoseconds == job.Entry.MtimeNanoseconds;
        if (!settled)
        {
            // A directory this run created is reported as created, not also as changed.
            ApplyMetadata(job.Handle, [], job.Entry, job.Handle.Stat([]), readXattrs: true, job.Created ? [] : job.Path);
            status = job.Handle.Stat([]);
        }

        // A directory's record holds the tree it was made equal to: its listing is known only for that tree.
        _newCache.Add(job.Path, status, job.Entry.Tree, null, job.Entry.Xattrs.Count > 0);
    }

    private void SyncDirectory(DirectoryHandle dir, ObjectId treeId, byte[] relative, bool unchanged, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var desired = _repository.ReadTree(treeId);
        if (!unchanged)
        {
            var wanted = new HashSet<byte[]>(desired.Select(e => e.Name), ByteComparer.Instance);
            foreach (var existing in dir.ReadEntries())
            {
                if (!wanted.Contains(existing.Name))
                {
                    Change(SyncAction.Delete, DirectoryHandle.Join(relative, existing.Name), ref _deleted);
                    if (!_options.DryRun)
                    {
                        dir.RemoveTree(existing.Name);
                        _dirty[dir] = 0;
                    }
                }
            }
        }

        foreach (var entry in desired)
        {
            var path = DirectoryHandle.Join(relative, entry.Name);
            var exists = dir.TryStat(entry.Name, out var status, out var errno);
            if (!exists && errno != Errno.ENOENT)
            {
                throw new LinuxException(errno, "stat", LinuxException.Printable(path));
            }

            if (exists && status.Kind != entry.Kind)
            {
                Change(SyncAction.Delete, path, ref _deleted);
                if (!_options.DryRun)
                {
                    dir.RemoveTree(entry.Name);
                    _dirty[dir] = 0;
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
                        _linkPrimaries[entry.LinkGroup] = (dir, entry.Name, path);
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
                        _linkPrimaries[entry.LinkGroup] = (dir, entry.Name, path);
                    }

                    SyncSpecial(dir, entry, path, exists ? status : null);
                    break;
            }
        }
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
            _dirty[dir] = 0;
        }

        var child = dir.OpenChild(entry.Name);
        _handles.Add(child);
        var status = existing ?? child.Stat([]);
        var unchanged = existing is not null && UnchangedDirectory(path, status, entry);
        SyncDirectory(child, entry.Tree, path, unchanged, cancellation);
        if (!_options.DryRun)
        {
            _directories.Add(new DirectoryJob(child, entry, path, status, unchanged) { Created = existing is null });
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
        _dirty[dir] = 0;
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
        if (!_options.DryRun && entry.LinkGroup == 0)
        {
            _newCache.Add(path, unchanged ?? dir.Stat(entry.Name), SpecialIdentity(entry), null, entry.Xattrs.Count > 0);
        }
    }

    private void RunWrites(CancellationToken cancellation)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        // Files whose data shares a frame are written by one thread, in frame order: each frame is read and
        // decompressed once.
        var packs = _repository.Objects;
        var groups = _writes
            .GroupBy(w => w.Entry.DataLength == 0 ? long.MaxValue : packs.FrameKey(w.Entry.Content))
            .OrderBy(g => g.Key)
            .ToList();
        try
        {
            Parallel.ForEach(groups, options, group =>
            {
                foreach (var job in group)
                {
                    WriteOne(job);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report the first real failure (a damaged object, a full disk), not a wrapper around it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        _options.Progress?.Report(new TransferProgress("writing files", _writes.Count, _writes.Count, _bytes, _totalBytes));
    }

    private void WriteOne(WriteJob job)
    {
        var same = job.KnownSame || (job.Existing is { } status && !job.CacheHit && ContentMatches(job.Dir, job.Entry, status));
        if (same)
        {
            var changed = ApplyMetadata(job.Dir, job.Entry.Name, job.Entry, job.Existing!.Value, readXattrs: !job.CacheHit, job.Path);
            if (!changed)
            {
                Interlocked.Increment(ref _unchanged);
            }

            Record(job.Dir, job.Entry, job.Path, changed ? null : job.Existing);
            return;
        }

        if (job.Existing is not null)
        {
            Change(SyncAction.Update, job.Path, ref _updated);
        }

        if (_options.DryRun)
        {
            return;
        }

        var temp = TempName();
        using (var file = job.Dir.OpenFile(temp, OpenFlags.CreateExclusiveReadWrite, StagingMode))
        {
            try
            {
                WriteContent(file, job.Entry);
            }
            catch
            {
                job.Dir.Unlink(temp);
                throw;
            }
        }

        ApplyMetadata(job.Dir, temp, job.Entry, job.Dir.Stat(temp), readXattrs: false, job.Path);
        job.Dir.Rename(temp, job.Entry.Name);
        _dirty[job.Dir] = 0;
        Record(job.Dir, job.Entry, job.Path);
        var done = Interlocked.Increment(ref _done);
        if ((done & 255) == 0)
        {
            _options.Progress?.Report(new TransferProgress("writing files", done, _writes.Count, Interlocked.Read(ref _bytes), _totalBytes));
        }
    }

    private void WriteContent(SafeFileHandle file, TreeEntry entry)
    {
        if (entry.DataLength == 0)
        {
            if (entry.Size > 0)
            {
                FileOps.Truncate(file, entry.Size);
            }

            return;
        }

        var extents = entry.Extents ?? [new Extent(0, entry.Size)];
        var extent = 0;
        long inExtent = 0;
        foreach (var piece in ContentStore.Read(_repository.Objects, entry.Content))
        {
            var span = piece.Span;
            while (!span.IsEmpty)
            {
                if (extent >= extents.Count)
                {
                    throw new CorruptObjectException($"content {entry.Content} is longer than its entry says");
                }

                var e = extents[extent];
                var n = (int)Math.Min(span.Length, e.Length - inExtent);
                RandomAccess.Write(file, span[..n], e.Offset + inExtent);
                span = span[n..];
                inExtent += n;
                if (inExtent == e.Length)
                {
                    extent++;
                    inExtent = 0;
                }
            }

            Interlocked.Add(ref _bytes, piece.Length);
        }

        if (entry.Extents is not null)
        {
            FileOps.Truncate(file, entry.Size);
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

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];
        foreach (var e in extents ?? [new Extent(0, status.Size)])
        {
            for (long at = 0; at < e.Length;)
            {
                var n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, e.Length - at)), e.Offset + at);
                if (n == 0)
                {
                    return false;
                }

                hash.AppendData(buffer, 0, n);
                at += n;
            }
        }

        return ObjectId.FromHash(hash) == entry.Content;
    }

    private void RunLinks()
    {
        foreach (var job in _links)
        {
            var (primaryDir, primaryName, _) = _linkPrimaries[job.Entry.LinkGroup];
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
                _dirty[job.Dir] = 0;
            }

            if (job.Entry.Kind == FileKind.Regular)
            {
                Record(job.Dir, job.Entry, job.Path);
            }
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
                dir.SetXattr(name, key, value);
            }
        }

        dir.SetModificationTime(name, entry.MtimeSeconds, entry.MtimeNanoseconds);
        return true;
    }

    private void Record(DirectoryHandle dir, TreeEntry entry, byte[] path, FileStatus? unchanged = null)
    {
        if (_options.DryRun)
        {
            return;
        }

        _newCache.Add(path, unchanged ?? dir.Stat(entry.Name), entry.Content, entry.Extents, entry.Xattrs.Count > 0);
    }

    private void CountTree(ObjectId treeId, byte[] relative)
    {
        foreach (var entry in _repository.ReadTree(treeId))
        {
            var path = DirectoryHandle.Join(relative, entry.Name);
            Change(SyncAction.Create, path, ref _created);
            if (entry.Kind == FileKind.Directory)
            {
                CountTree(entry.Tree, path);
            }
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

    private static byte[] TempName() => System.Text.Encoding.ASCII.GetBytes($".sidus-{Guid.NewGuid():N}");

    private sealed record WriteJob(DirectoryHandle Dir, TreeEntry Entry, byte[] Path, FileStatus? Existing, bool KnownSame)
    {
        public bool CacheHit { get; init; }
    }

    private sealed record DirectoryJob(DirectoryHandle Handle, TreeEntry Entry, byte[] Path, FileStatus Status, bool Unchanged)
    {
        public bool Created { get; init; }
    }

    private sealed record LinkJob(DirectoryHandle Dir, TreeEntry Entry, byte[] Path, FileStatus? Existing);
}
