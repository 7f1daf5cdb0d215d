using Sidus.Store.Packs;
using Sidus.Store.Sync;

namespace Sidus.Store.Import;

/// <summary>
/// Reads a directory tree into a <see cref="MemoryTree"/>: one sequential walk for names and metadata, then file
/// data hashed and stored in parallel. A state cache from an earlier checkout lets unchanged files skip the read.
/// </summary>
/// <param name="record">When given, receives the stat and content of every regular file, to serve as the state cache of
/// the source directory once it is recorded as a version.</param>
public sealed class DirectoryImporter(ObjectWriter writer, IProgress<TransferProgress>? progress = null, StateCache? cache = null,
    StateCache? record = null)
{
    private readonly List<FileJob> _files = [];
    private readonly Dictionary<(ulong Dev, ulong Ino), LinkKey> _links = [];
    private long _totalBytes;

    public MemoryTree Import(string sourcePath, CancellationToken cancellation)
    {
        using var root = DirectoryHandle.Open(sourcePath);
        var rootStatus = root.Stat([]);
        var tree = new MemoryTree(EntryFor([], rootStatus, root));
        Walk(root, tree.Root, [], cancellation);
        StoreFiles(root, cancellation);
        return tree;
    }

    private void Walk(DirectoryHandle dir, MemoryNode node, byte[] relative, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var names = dir.ReadEntries();
        names.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        foreach (var (name, _) in names)
        {
            var status = dir.Stat(name);
            var path = DirectoryHandle.Join(relative, name);
            var entry = EntryFor(name, status, dir);
            var child = new MemoryNode(entry);
            node.Children![name] = child;
            if (status.Kind == FileKind.Directory)
            {
                using var sub = dir.OpenChild(name);
                Walk(sub, child, path, cancellation);
                continue;
            }

            var firstOfLink = true;
            if (status.LinkCount > 1)
            {
                if (_links.TryGetValue((status.Device, status.Inode), out var key))
                {
                    firstOfLink = false;
                }
                else
                {
                    key = new LinkKey();
                    _links[(status.Device, status.Inode)] = key;
                }

                child.Link = key;
            }

            if (status.Kind == FileKind.Regular && firstOfLink)
            {
                _files.Add(new FileJob(child, path, status));
                _totalBytes += status.Size;
            }
            else if (status.Kind == FileKind.Regular && !firstOfLink)
            {
                _files.Add(new FileJob(child, path, status) { SameAs = _links[(status.Device, status.Inode)] });
            }
        }
    }

    /// <summary>The entry of NAME in DIR: the import's byte-exact rules, which the capture's walker follows too.</summary>
    /// <param name="readXattrs">False when the caller knows the entry has none (its ctime unchanged since it had
    /// none: setting an attribute moves the ctime).</param>
    internal static TreeEntry EntryFor(byte[] name, FileStatus status, DirectoryHandle dir, bool readXattrs = true)
    {
        var entry = new TreeEntry
        {
            Name = name,
            Kind = status.Kind,
            Permissions = status.Permissions,
            Uid = status.Uid,
            Gid = status.Gid,
            MtimeSeconds = status.MtimeSeconds,
            MtimeNanoseconds = status.MtimeNanoseconds,
            Xattrs = readXattrs ? dir.ReadXattrs(name) : [],
            Size = status.Kind == FileKind.Regular ? status.Size : 0,
        };
        switch (status.Kind)
        {
            case FileKind.Symlink:
                entry.Target = dir.ReadLink(name);
                break;
            case FileKind.CharDevice:
            case FileKind.BlockDevice:
                entry.RdevMajor = status.RdevMajor;
                entry.RdevMinor = status.RdevMinor;
                break;
        }

        return entry;
    }

    private void StoreFiles(DirectoryHandle root, CancellationToken cancellation)
    {
        var done = 0L;
        var bytes = 0L;
        var primaries = _files.Where(f => f.SameAs is null).ToList();
        var runs = PlanRuns(primaries);
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        try
        {
            Parallel.ForEach(runs, options, run =>
            {
                foreach (var job in run)
                {
                    cancellation.ThrowIfCancellationRequested();
                    job.Node.Entry.Content = StoreOne(root, job);
                    var n = Interlocked.Increment(ref done);
                    var b = Interlocked.Add(ref bytes, job.Status.Size);
                    if ((n & 255) == 0)
                    {
                        progress?.Report(new TransferProgress("storing files", n, primaries.Count, b, _totalBytes));
                    }
                }

                // One run, one frame: similar files compress together.
                writer.FlushBatch();
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        progress?.Report(new TransferProgress("storing files", primaries.Count, primaries.Count, _totalBytes, _totalBytes));

        var byKey = _files.Where(f => f.SameAs is null && f.Node.Link is not null)
            .ToDictionary(f => f.Node.Link!, f => f.Node);
        foreach (var job in _files.Where(f => f.SameAs is not null))
        {
            var primary = byKey[job.SameAs!];
            job.Node.Entry.Content = primary.Entry.Content;
            job.Node.Entry.Extents = primary.Entry.Extents;
        }

        if (record is not null)
        {
            foreach (var job in _files)
            {
                record.Add(job.Path, job.Status, job.Node.Entry.Content, job.Node.Entry.Extents, job.Node.Entry.Xattrs.Count > 0);
            }
        }
    }

    /// <summary>
    /// Orders files so that similar ones are neighbours (by extension, then name: all the copyright files, all the
    /// kernel modules...) and cuts them into runs of about one frame; big files are runs of their own, biggest first
    /// so that no large file is left to finish alone.
    /// </summary>
    private static List<List<FileJob>> PlanRuns(List<FileJob> files)
    {
        var runs = new List<List<FileJob>>();
        foreach (var big in files.Where(f => f.Status.Size > ContentStore.ChunkingThreshold).OrderByDescending(f => f.Status.Size))
        {
            runs.Add([big]);
        }

        var small = files.Where(f => f.Status.Size <= ContentStore.ChunkingThreshold)
            .OrderBy(f => Extension(f.Path), ByteComparer.Instance)
            .ThenBy(f => BaseName(f.Path), ByteComparer.Instance)
            .ThenBy(f => f.Path, ByteComparer.Instance);
        var current = new List<FileJob>();
        long size = 0;
        foreach (var job in small)
        {
            current.Add(job);
            size += job.Status.Size;
            if (size >= PackFormat.FrameTarget)
            {
                runs.Add(current);
                current = [];
                size = 0;
            }
        }

        if (current.Count > 0)
        {
            runs.Add(current);
        }

        return runs;
    }

    /// <summary>The last component of PATH (files are grouped by it, and by <see cref="Extension"/>, to compress together).</summary>
    internal static byte[] BaseName(byte[] path)
    {
        var slash = path.AsSpan().LastIndexOf((byte)'/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    internal static byte[] Extension(byte[] path)
    {
        var name = BaseName(path);
        var dot = name.AsSpan().LastIndexOf((byte)'.');
        return dot <= 0 ? [] : name[dot..];
    }

    private ObjectId StoreOne(DirectoryHandle root, FileJob job)
    {
        if (job.Status.Size == 0)
        {
            return ObjectId.Zero;
        }

        if (cache?.Lookup(job.Path, job.Status) is { } cached && writer.Has(cached.Content))
        {
            job.Node.Entry.Extents = cached.Extents;
            return cached.Content;
        }

        try
        {
            using var file = root.OpenRead(job.Path);
            var extents = DataExtents(file, job.Status);
            var dataLength = extents?.Sum(e => e.Length) ?? job.Status.Size;

            job.Node.Entry.Extents = extents;
            if (dataLength == 0)
            {
                return ObjectId.Zero;
            }

            return ContentStore.StoreFile(writer, file, dataLength, extents);
        }
        catch (IOException e) when (e is not StoreException)
        {
            throw new StoreException(
                $"cannot read {LinuxException.Printable(job.Path)} in the source: {e.Message}. Fix its permissions or remove it, then import again; nothing was stored.",
                e);
        }
    }

    /// <summary>A sparse file's data extents (its holes are recorded, not stored); null for a file without holes.</summary>
    internal static List<Extent>? DataExtents(SafeFileHandle file, FileStatus status)
    {
        if (!status.MayBeSparse)
        {
            return null;
        }

        var found = FileOps.DataExtents(file, status.Size);
        return found.Count == 1 && found[0] == (0, status.Size) ? null : found.Select(e => new Extent(e.Offset, e.Length)).ToList();
    }

    private sealed record FileJob(MemoryNode Node, byte[] Path, FileStatus Status)
    {
        public LinkKey? SameAs { get; init; }
    }
}

/// <summary>How far a long operation got: ITEMS of TOTAL_ITEMS (0: not known) counted in UNIT, and bytes.</summary>
public readonly record struct TransferProgress(string Stage, long Items, long TotalItems, long Bytes, long TotalBytes, string Unit = "files");
