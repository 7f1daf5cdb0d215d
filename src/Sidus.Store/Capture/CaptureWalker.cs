using System.Buffers;
using Sidus.Store.Import;
using Sidus.Store.Sync;

namespace Sidus.Store.Capture;

/// <summary>
/// The golden client's side of a capture (sidus-walk): reads the root with the import's byte-exact rules, stays on
/// local filesystems, leaves out what the request excludes, and answers the server: first the whole tree with each
/// file's content id, then the data of the contents the server lacks. A state cache kept on the client
/// (<see cref="DefaultStatePath"/>, excluded by every capture) lets a recapture hash only the files that changed.
/// </summary>
public sealed class CaptureWalker(Stream fromServer, Stream toServer, string root, string? statePath, TextWriter log)
{
    /// <summary>Where the walker keeps its state cache on the client: under /var/lib/sidus, which no capture takes.</summary>
    public const string DefaultStatePath = "/var/lib/sidus/capture.state";

    private readonly List<WalkedFile> _files = [];
    private readonly Dictionary<(ulong Dev, ulong Ino), uint> _groups = [];
    private readonly Dictionary<(ulong Dev, ulong Ino), WalkedFile> _firstOfGroup = [];
    private readonly StateCache _record = StateCache.Empty(ObjectId.Zero);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);
    private readonly Lock _progressLock = new();
    private bool _progressStopped;
    private long _walked;
    private long _hashedFiles;
    private long _hashedBytes;
    private long _readBytes;
    private LocalFilesystems _local = null!;
    private SyncExcludes _excludes = SyncExcludes.None;
    private StateCache? _cache;
    private string? _staged;

    /// <summary>
    /// A file whose ctime is this close to the walk's start (or after it) is hashed, but not kept in the state cache.
    /// The kernel stamps times from a coarse clock (a few ms; whole seconds on some filesystems): a change made in
    /// the same tick after the walker read the file would leave its stat as recorded, and the next capture would
    /// believe the old content and attributes for good ("racy" entries, as git calls them).
    /// </summary>
    internal TimeSpan RacyWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Called once the server has recorded the capture and any state cache is saved (never for a dry run, which
    /// leaves the client as it was): sidus-walk keeps a copy of itself there for the next capture, or removes what
    /// earlier captures kept (--forget).
    /// </summary>
    public Action? AfterRecorded { get; init; }
    private long _racyFrom;

    public int Run(CancellationToken cancellation)
    {
        _racyFrom = (DateTimeOffset.UtcNow - RacyWindow).ToUnixTimeSeconds();
        // At most 8 blocks compressed at once (a block in flight holds 2-3 MB): more cores would wait for the link.
        var output = new BlockWriter(toServer, compressors: Math.Min(Environment.ProcessorCount, 8));
        try
        {
            var request = CaptureProtocol.ReadRequest(fromServer);
            CaptureProtocol.WriteHello(output, Environment.MachineName);
            if (root == "/" && !Environment.IsPrivilegedProcess)
            {
                // Some files (/etc/shadow, /etc/sudoers, /root) are root's alone: a partial tree is never an image.
                // The login's name from sshd's USER, not Environment.UserName: a static walker must not load the
                // client's name-service libraries (another glibc's) to look the uid up.
                var user = Environment.GetEnvironmentVariable("USER") is { Length: > 0 } name ? name : "uid " + FileOps.EffectiveUserId;
                throw new IOException($"the walker runs as {user}, not root, and cannot read every file of the client: " +
                                      "log in as root (ssh://root@HOST), or give --sudo to run it through sudo");
            }

            if (!Directory.Exists("/proc/self/fd"))
            {
                throw new IOException("/proc is not mounted on the client: the walker reads extended attributes through it");
            }

            _excludes = new SyncExcludes(request.Excludes);
            _cache = statePath is null ? null : StateCache.Load(statePath);
            if (statePath is not null && !request.DryRun)
            {
                // Made before the walk, so the walk sees its parent's mtime as the capture leaves it.
                Directory.CreateDirectory(Path.GetDirectoryName(statePath)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            _local = LocalFilesystems.Read(log);
            using var top = DirectoryHandle.Open(root);
            var rootStatus = top.Stat([]);
            var tree = new WalkedNode(DirectoryImporter.EntryFor([], rootStatus, top), [], rootStatus) { Children = [] };
            using (new Timer(_ => SendProgress(output), null, ProgressEvery, ProgressEvery))
            {
                Walk(top, tree, rootStatus.Device, 0, cancellation);
                Index(tree);
                Hash(top, cancellation);
            }

            lock (_progressLock)
            {
                _progressStopped = true; // a callback still running waits here; none writes after this
            }

            var records = new ByteWriter(64 * 1024);
            var count = Emit(tree, records, output);
            records.Byte(CaptureProtocol.EndRecord);
            records.Varint((ulong)count);
            output.Write(records.WrittenSpan);
            output.Flush();

            var wanted = request.SendAll ? (request.DryRun ? [] : AllContents()) : ReadWanted();
            if (wanted is null)
            {
                return 1;
            }

            SendContents(top, wanted, output, cancellation);
            output.WriteByte(CaptureProtocol.EndRecord);
            output.Flush();
            if (request.SendAll)
            {
                return 0;
            }

            // Written while the server stores and records: only its rename waits for the server's word.
            var keeps = statePath is not null && !request.DryRun;
            _staged = keeps ? StageState() : null;
            if (fromServer.ReadByte() != CaptureProtocol.DoneAnswer)
            {
                log.WriteLine("sidus-walk: the server did not record the capture");
                DropStaged();
                return 1;
            }

            if (keeps)
            {
                CommitState();
            }

            if (!request.DryRun)
            {
                AfterRecorded?.Invoke();
            }

            return 0;
        }
        catch (Exception caught) when (Unwrapped(caught) is IOException or UnauthorizedAccessException or ArgumentException or StoreException)
        {
            // The server shows the reason; the stream may be cut anywhere, so it also goes to stderr.
            DropStaged();
            var e = Unwrapped(caught);
            log.WriteLine("sidus-walk: " + e.Message);
            try
            {
                var failure = new ByteWriter(256);
                failure.Byte(CaptureProtocol.FailureRecord);
                failure.Bytes(Encoding.UTF8.GetBytes(e.Message.Length > 4000 ? e.Message[..4000] : e.Message));
                output.Write(failure.WrittenSpan);
                output.Flush();
            }
            catch (IOException)
            {
            }

            return 1;
        }
    }

    /// <summary>The failure itself: the parallel walk and hashing wrap it (once per nested loop).</summary>
    private static Exception Unwrapped(Exception e) =>
        e is AggregateException aggregate && aggregate.Flatten().InnerExceptions is [var first, ..] inner
            ? inner.FirstOrDefault(x => x is not OperationCanceledException) ?? first
            : e;

    /// <summary>Directories this close to the root have their subdirectories walked side by side.</summary>
    private const int ParallelDepth = 3;

    /// <summary>
    /// Reads DIR's entries into NODE and walks its subdirectories. Near the root, sibling directories are walked on
    /// all cores: the walk is statx, getdents and listxattr calls, which the kernel serves on every core, and it is
    /// most of an unchanged capture's own time. Deeper down each subtree stays on one thread (handing out the work
    /// would cost more). Only each node's own children are written here; what needs the walk's order (hard link
    /// groups, the files to hash) is worked out after it (<see cref="Index"/>).
    /// </summary>
    private void Walk(DirectoryHandle dir, WalkedNode node, ulong device, int depth, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var names = dir.ReadEntries();
        names.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        List<(byte[] Name, WalkedNode Node)>? subdirectories = null;
        foreach (var (name, _) in names)
        {
            var path = DirectoryHandle.Join(node.Path, name);
            if (_excludes.Contains(path) || !dir.TryStat(name, out var status, out _))
            {
                continue; // Excluded, or gone since the directory was read.
            }

            Interlocked.Increment(ref _walked);
            // A file whose stat matches the state cache has the content it had then, and no attributes when it had
            // none (setting one moves the ctime): 9,000 listxattr calls fewer in a recapture of an 11,000-entry root.
            var cached = status.Kind == FileKind.Regular ? _cache?.Lookup(path, status) : null;
            var child = new WalkedNode(DirectoryImporter.EntryFor(name, status, dir, readXattrs: cached is not { HasXattrs: false }), path, status)
            {
                Cached = cached,
            };
            node.Children!.Add(child);
            if (status.Kind == FileKind.Directory)
            {
                child.Children = [];
                if (status.Device == device || _local.Holds(status.Device, device))
                {
                    (subdirectories ??= []).Add((name, child));
                }

                // Else a mount point of /proc, a network or FUSE filesystem: the directory, not its contents.
            }
        }

        if (subdirectories is null)
        {
            return;
        }

        if (depth < ParallelDepth && subdirectories.Count > 1)
        {
            // The first failure stops the other subtrees at their next directory, not after all of /usr.
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            Parallel.ForEach(subdirectories, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = failed.Token }, sub =>
            {
                try
                {
                    Into(sub, failed.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failed.Cancel();
                    throw;
                }
            });
        }
        else
        {
            foreach (var sub in subdirectories)
            {
                Into(sub, cancellation);
            }
        }

        void Into((byte[] Name, WalkedNode Node) sub, CancellationToken token)
        {
            using var handle = dir.OpenChild(sub.Name);
            Walk(handle, sub.Node, sub.Node.Status.Device, depth + 1, token);
        }
    }

    /// <summary>
    /// In the walk's order: numbers the hard link groups, names the first file of each (the one hashed and sent),
    /// and lists the regular files.
    /// </summary>
    private void Index(WalkedNode node)
    {
        foreach (var child in node.Children!)
        {
            var status = child.Status;
            child.LinkGroup = LinkGroupOf(status);
            if (status.Kind == FileKind.Directory)
            {
                Index(child);
            }
            else if (status.Kind == FileKind.Regular)
            {
                var file = new WalkedFile(child);
                if (child.LinkGroup != 0 && !_firstOfGroup.TryAdd((status.Device, status.Inode), file))
                {
                    file.SameAs = _firstOfGroup[(status.Device, status.Inode)];
                }

                _files.Add(file);
            }
        }
    }

    private uint LinkGroupOf(FileStatus status)
    {
        if (status.LinkCount < 2 || status.Kind == FileKind.Directory)
        {
            return 0;
        }

        var key = (status.Device, status.Inode);
        if (!_groups.TryGetValue(key, out var group))
        {
            group = (uint)_groups.Count + 1;
            _groups[key] = group;
        }

        return group;
    }

    /// <summary>
    /// Tells the server how the walk and the hashing go, once a second until the tree is sent: the admin sees it, and
    /// a client hashing a large disk for minutes is never taken for one that hangs.
    /// </summary>
    private void SendProgress(Stream output)
    {
        lock (_progressLock)
        {
            if (_progressStopped)
            {
                return;
            }

            var w = new ByteWriter(64);
            w.Byte(CaptureProtocol.ProgressRecord);
            w.Varint((ulong)Interlocked.Read(ref _walked));
            w.Varint((ulong)Interlocked.Read(ref _hashedFiles));
            w.Varint((ulong)_files.Count);
            w.Varint((ulong)Interlocked.Read(ref _hashedBytes));
            w.Varint((ulong)Interlocked.Read(ref _readBytes));
            try
            {
                output.Write(w.WrittenSpan);
                output.Flush();
            }
            catch (IOException)
            {
                // The connection is gone: the walk's own writes report it.
            }
        }
    }

    /// <summary>Each file's content id: from the state cache where its stat is unchanged, else read and hashed.</summary>
    private void Hash(DirectoryHandle top, CancellationToken cancellation)
    {
        var primaries = _files.Where(f => f.SameAs is null).ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        Parallel.ForEach(primaries, options, file =>
        {
            var entry = file.Node.Entry;
            if (file.Cached is { } cached)
            {
                entry.Content = cached.Content;
                entry.Extents = cached.Extents;
            }
            else
            {
                (entry.Content, entry.Extents) = HashFile(top, file);
                Interlocked.Add(ref _readBytes, file.Status.Size);
            }

            if (file.Status.CtimeSeconds < _racyFrom)
            {
                _record.Add(file.Node.Path, file.Status, entry.Content, entry.Extents, entry.Xattrs.Count > 0);
            }
            Interlocked.Increment(ref _hashedFiles);
            Interlocked.Add(ref _hashedBytes, file.Status.Size);
        });
        foreach (var file in _files.Where(f => f.SameAs is not null))
        {
            file.Node.Entry.Content = file.SameAs!.Node.Entry.Content;
            file.Node.Entry.Extents = file.SameAs.Node.Entry.Extents;
        }
    }

    private static (ObjectId, IReadOnlyList<Extent>?) HashFile(DirectoryHandle top, WalkedFile file)
    {
        if (file.Status.Size == 0)
        {
            return (ObjectId.Zero, null);
        }

        try
        {
            using var handle = top.OpenRead(file.Node.Path);
            var extents = DirectoryImporter.DataExtents(handle, file.Status);
            var length = extents?.Sum(e => e.Length) ?? file.Status.Size;
            if (length == 0)
            {
                return (ObjectId.Zero, extents);
            }

            using var data = ContentStore.OpenData(handle, extents, length);
            return (ObjectId.HashStream(data), extents);
        }
        catch (IOException e)
        {
            throw new IOException($"cannot read /{LinuxException.Printable(file.Node.Path)}: {e.Message}", e);
        }
    }

    /// <summary>Writes NODE and everything under it depth-first; returns the entries written.</summary>
    private static long Emit(WalkedNode node, ByteWriter records, Stream output)
    {
        CaptureProtocol.WriteEntry(records, node.Entry, node.LinkGroup);
        var count = 1L;
        if (node.Children is not null)
        {
            foreach (var child in node.Children)
            {
                count += Emit(child, records, output);
            }

            records.Byte(CaptureProtocol.UpRecord);
        }

        if (records.Length >= 32 * 1024)
        {
            output.Write(records.WrittenSpan);
            records.Clear();
        }

        return count;
    }

    /// <summary>Every content of the tree once, in the order the tree first names them (the receiver's order).</summary>
    private List<ObjectId> AllContents() =>
        [.. _files.Where(f => f.SameAs is null && !f.Node.Entry.Content.IsZero).Select(f => f.Node.Entry.Content).Distinct()];

    private List<ObjectId>? ReadWanted()
    {
        var reader = new RecordReader(fromServer, "the server");
        var answer = reader.Byte();
        if (answer != CaptureProtocol.WantedAnswer)
        {
            log.WriteLine($"sidus-walk: the server answered '{(char)answer}' to the tree: it refused it");
            return null;
        }

        var count = reader.Length(CaptureProtocol.MaxWanted, "the wanted list");
        var wanted = new List<ObjectId>(count);
        for (var i = 0; i < count; i++)
        {
            wanted.Add(reader.Id());
        }

        return wanted;
    }

    private void SendContents(DirectoryHandle top, List<ObjectId> wanted, BlockWriter output, CancellationToken cancellation)
    {
        var byContent = new Dictionary<ObjectId, WalkedFile>();
        foreach (var file in _files.Where(f => f.SameAs is null))
        {
            byContent.TryAdd(file.Node.Entry.Content, file);
        }

        var header = new ByteWriter(64);
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            foreach (var id in wanted)
            {
                cancellation.ThrowIfCancellationRequested();
                header.Clear();
                if (!byContent.TryGetValue(id, out var file))
                {
                    throw new IOException($"the server asked for content {id.Short}, which no file here has");
                }

                SafeFileHandle handle;
                try
                {
                    handle = top.OpenRead(file.Node.Path);
                }
                catch (IOException)
                {
                    header.Byte(CaptureProtocol.VanishedRecord);
                    header.Id(id);
                    output.Write(header.WrittenSpan);
                    continue;
                }

                using (handle)
                {
                    var length = file.Node.Entry.DataLength;
                    header.Byte(CaptureProtocol.ContentRecord);
                    header.Id(id);
                    header.Varint((ulong)length);
                    output.KeepTogether(header.Length + length);
                    output.Write(header.WrittenSpan);
                    SendData(handle, file.Node.Entry.Extents, length, buffer, output);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends exactly LENGTH bytes: a file that shrank since it was hashed is padded with zeros, and the
    /// server, finding the hash wrong, names it as changed during the capture.</summary>
    private static void SendData(SafeFileHandle handle, IReadOnlyList<Extent>? extents, long length, byte[] buffer, Stream output)
    {
        using var data = ContentStore.OpenData(handle, extents, length);
        var left = length;
        while (left > 0)
        {
            int n;
            try
            {
                n = data.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)));
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n == 0)
            {
                buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)).Clear();
                n = (int)Math.Min(buffer.Length, left);
            }

            output.Write(buffer, 0, n);
            left -= n;
        }
    }

    /// <summary>The state cache written beside its file and made durable; null when it cannot be (said on stderr).</summary>
    private string? StageState()
    {
        try
        {
            return AtomicFile.Stage(statePath!, _record.Encode());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The capture goes on; only the next one is slower (it hashes every file again).
            log.WriteLine($"sidus-walk: cannot keep the state cache {statePath}: {e.Message}");
            return null;
        }
    }

    private void CommitState()
    {
        if (_staged is null)
        {
            return;
        }

        try
        {
            AtomicFile.Commit(_staged, statePath!);
            _staged = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.WriteLine($"sidus-walk: cannot keep the state cache {statePath}: {e.Message}");
            DropStaged();
        }
    }

    /// <summary>Removes the staged state cache of a capture the server did not record: it would describe a version
    /// that is not.</summary>
    private void DropStaged()
    {
        if (_staged is { } staged)
        {
            _staged = null;
            try
            {
                File.Delete(staged);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private sealed class WalkedNode(TreeEntry entry, byte[] path, FileStatus status)
    {
        public TreeEntry Entry { get; } = entry;
        public byte[] Path { get; } = path;
        public FileStatus Status { get; } = status;
        public uint LinkGroup { get; set; }
        public List<WalkedNode>? Children { get; set; }

        /// <summary>What the state cache holds for a regular file whose stat still matches.</summary>
        public (ObjectId Content, IReadOnlyList<Extent>? Extents, bool HasXattrs)? Cached { get; init; }
    }

    private sealed class WalkedFile(WalkedNode node)
    {
        public WalkedNode Node { get; } = node;
        public FileStatus Status => Node.Status;
        public (ObjectId Content, IReadOnlyList<Extent>? Extents, bool HasXattrs)? Cached => Node.Cached;
        public WalkedFile? SameAs { get; set; }
    }
}
