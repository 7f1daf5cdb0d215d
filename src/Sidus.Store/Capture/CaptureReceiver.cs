using System.Buffers;
using Sidus.Store.Import;
using Sidus.Store.Packs;

namespace Sidus.Store.Capture;

/// <summary>
/// The server's side of a capture: reads the walker's tree into memory and then the contents the store lacks,
/// treating every byte as hostile. Names with a slash, "." or "..", a path longer than Linux allows, a directory
/// named twice or hard-linked (a loop), more entries than any system holds, contents whose hash does not match,
/// a walker that stops halfway: each is refused with a <see cref="CaptureRefusedException"/>, before anything is
/// recorded. Symlinks are kept as they are and never followed, so a symlink loop is only data.
/// </summary>
/// <param name="maxEntries">The most entries accepted (tests lower it to reach the limit quickly).</param>
public sealed class CaptureReceiver(Stream fromWalker, IProgress<TransferProgress>? progress, long maxEntries = CaptureProtocol.MaxEntries)
{
    private readonly BlockReader _blocks = new(fromWalker);
    private readonly Dictionary<ObjectId, (byte[] Path, long Length)> _contents = [];
    private readonly List<ObjectId> _order = [];
    private RecordReader? _reader;

    /// <summary>The client's name, as its walker says.</summary>
    public string Host { get; private set; } = "";

    public long Entries { get; private set; }
    public long Files { get; private set; }
    public long Bytes { get; private set; }

    /// <summary>The distinct contents of the tree (not empty), each with the first path holding it and its length.</summary>
    public IReadOnlyDictionary<ObjectId, (byte[] Path, long Length)> Contents => _contents;

    /// <summary>The same contents in the order the tree first names them (the order of a send-all walker).</summary>
    public IReadOnlyList<ObjectId> ContentOrder => _order;

    /// <summary>Bytes received from the walker so far (compressed, as on the wire).</summary>
    public long WireBytes => _blocks.WireBytes;

    public MemoryTree ReceiveTree(CancellationToken cancellation)
    {
        _reader = new RecordReader(_blocks, "the walker");
        Host = CaptureProtocol.ReadHello(_reader);
        var first = NextRecord();
        for (var reports = 0; first == CaptureProtocol.ProgressRecord; reports++)
        {
            if (reports > CaptureProtocol.MaxProgressRecords)
            {
                throw new CaptureRefusedException($"the walker sent progress for over {CaptureProtocol.MaxProgressRecords} s without its tree; refused as a walk that never ends");
            }

            var walked = (long)_reader.Varint();
            var hashed = (long)_reader.Varint();
            var found = (long)_reader.Varint();
            var hashedBytes = (long)_reader.Varint();
            var readBytes = (long)_reader.Varint();
            progress?.Report(hashed == 0
                ? new TransferProgress($"{Host}: walking", walked, 0, 0, 0, "entries")
                : new TransferProgress($"{Host}: hashing ({ByteUnits.Format(readBytes)} read, the rest unchanged)", hashed, found, hashedBytes, 0));
            first = NextRecord();
        }

        if (first != CaptureProtocol.EntryRecord)
        {
            throw new CaptureRefusedException("the walker's tree does not start with its root directory");
        }

        var (rootEntry, _) = CaptureProtocol.ReadEntry(_reader);
        if (rootEntry.Kind != FileKind.Directory || rootEntry.Name.Length != 0)
        {
            throw new CaptureRefusedException("the walker's tree does not start with its root directory");
        }

        var tree = new MemoryTree(rootEntry);
        var open = new Stack<(MemoryNode Node, byte[] Path)>();
        open.Push((tree.Root, []));
        var links = new Dictionary<uint, List<MemoryNode>>();
        Entries = 1;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var record = NextRecord();
            if (record == CaptureProtocol.UpRecord && open.Count > 0)
            {
                open.Pop();
                continue;
            }

            if (record == CaptureProtocol.EndRecord)
            {
                var told = _reader.Varint();
                if (open.Count > 0 || told != (ulong)Entries)
                {
                    throw new CaptureRefusedException($"the walker ended its tree early ({Entries} entries received, {told} told, {open.Count} directories still open)");
                }

                MarkLinks(links);
                Report("receiving the tree");
                return tree;
            }

            if (record != CaptureProtocol.EntryRecord || open.Count == 0)
            {
                throw new CaptureRefusedException($"the walker sent a record '{(char)record}' where an entry was expected");
            }

            var (entry, group) = CaptureProtocol.ReadEntry(_reader);
            var (parent, parentPath) = open.Peek();
            var path = DirectoryHandle.Join(parentPath, entry.Name);
            CheckName(entry.Name, parent, path.Length + 1);
            if (++Entries > maxEntries)
            {
                throw new CaptureRefusedException($"the walker sent more than {maxEntries} entries: no system holds that many; refused as a tree that never ends");
            }

            var node = new MemoryNode(entry);
            parent.Children![entry.Name] = node;
            if (group != 0)
            {
                Link(node, group, links);
            }

            if (entry.Kind == FileKind.Directory)
            {
                open.Push((node, path));
            }
            else if (entry.Kind == FileKind.Regular)
            {
                CheckContent(entry, path);
            }

            if ((Entries & 8191) == 0)
            {
                Report("receiving the tree");
            }
        }
    }

    /// <summary>Receives the data of WANTED (in that order) into WRITER (null: a dry run asks for none), each
    /// checked against its content id. Small contents are hashed and stored by worker threads while the next ones
    /// arrive; a large one is chunked and hashed as it streams in, and its chunks compressed and stored by the workers
    /// (storing them on this thread made it the capture's bottleneck: half of an image's bytes are in files over 1 MiB).</summary>
    public void ReceiveContents(ObjectWriter? writer, IReadOnlyList<ObjectId> wanted, CancellationToken cancellation)
    {
        var reader = _reader ?? throw new InvalidOperationException("the tree comes first");
        var total = wanted.Sum(id => _contents[id].Length);
        using var workers = new ContentWorkers(writer);
        // The walker's blocks are stored as they came where they hold whole contents: compressing each content
        // again at the store's level was most of the server's work in a capture.
        _blocks.KeptFrames = writer is null ? null : writer.PutFrame;
        try
        {
            ReceiveEach(reader, workers, writer, wanted, total, cancellation);
        }
        finally
        {
            _blocks.KeptFrames = null;
        }
    }

    private void ReceiveEach(RecordReader reader, ContentWorkers workers, ObjectWriter? writer, IReadOnlyList<ObjectId> wanted, long total,
        CancellationToken cancellation)
    {
        var done = 0L;
        var received = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            workers.ThrowIfFailed();
            var record = NextRecord();
            if (record == CaptureProtocol.EndRecord)
            {
                if (received != wanted.Count)
                {
                    throw new CaptureRefusedException($"the walker ended after {received} of the {wanted.Count} contents asked for");
                }

                _blocks.FlushKept();
                workers.Finish();
                progress?.Report(new TransferProgress("receiving contents", received, wanted.Count, done, total));
                return;
            }

            var id = reader.Id();
            if (received >= wanted.Count || wanted[received] != id)
            {
                throw new CaptureRefusedException($"the walker sent content {id.Short}, which was not asked for (or not in this order)");
            }

            var (path, length) = _contents[id];
            if (record == CaptureProtocol.VanishedRecord)
            {
                throw new CaptureRefusedException($"{Printable(path)} vanished on the client during the capture: run the capture again");
            }

            if (record != CaptureProtocol.ContentRecord)
            {
                throw new CaptureRefusedException($"the walker sent a record '{(char)record}' where a content was expected");
            }

            var told = reader.Varint();
            if (told != (ulong)length)
            {
                throw new CaptureRefusedException($"the walker sent {told} bytes for {Printable(path)}, whose tree entry holds {length}");
            }

            if (length <= ContentStore.ChunkingThreshold)
            {
                var buffer = ArrayPool<byte>.Shared.Rent((int)length);
                var kept = _blocks.TryKeep(id, (int)length);
                reader.Raw(buffer.AsSpan(0, (int)length));
                workers.Add(new PendingContent(id, buffer, (int)length, path, Stored: kept));
            }
            else if (ContentStore.StoreStream(writer!, new ExactStream(_blocks, length), workers.AddChunk) != id)
            {
                throw Mismatch(path);
            }

            received++;
            done += length;
            if ((received & 255) == 0 || length > 1024 * 1024)
            {
                progress?.Report(new TransferProgress("receiving contents", received, wanted.Count, done, total));
            }
        }
    }

    private static CaptureRefusedException Mismatch(byte[] path) => new(
        $"the data sent for {Printable(path)} does not match its hash (it changed on the client during the capture?): run the capture again; nothing was recorded");

    /// <summary>A content or chunk for the workers; CHECKED when its id was computed from these bytes already, STORED
    /// when its block was kept as it came (only its hash is left to check).</summary>
    private sealed record PendingContent(ObjectId Id, byte[] Buffer, int Length, byte[]? Path, bool Checked = false, bool Stored = false);

    /// <summary>Threads that hash and store received contents, so that the reader is free to read the next ones.</summary>
    private sealed class ContentWorkers : IDisposable
    {
        private readonly BlockingCollection<PendingContent> _queue = new(boundedCapacity: 64);
        private readonly Task[] _threads;
        private readonly ObjectWriter? _writer;
        private Exception? _failure;

        public ContentWorkers(ObjectWriter? writer)
        {
            _writer = writer;
            _threads = writer is null
                ? []
                : [.. Enumerable.Range(0, Math.Max(1, Environment.ProcessorCount)).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning))];
        }

        public void Add(PendingContent content)
        {
            if (_writer is null)
            {
                ArrayPool<byte>.Shared.Return(content.Buffer);
                throw new CaptureRefusedException("the walker sent contents where none were asked for");
            }

            _queue.Add(content);
        }

        /// <summary>A chunk of a large content, its id computed by the reader from DATA (copied: the span is the chunker's).</summary>
        public void AddChunk(ObjectId id, ReadOnlySpan<byte> data)
        {
            ThrowIfFailed();
            var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(buffer);
            Add(new PendingContent(id, buffer, data.Length, null, Checked: true));
        }

        public void ThrowIfFailed()
        {
            if (Volatile.Read(ref _failure) is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }

        /// <summary>Waits until every content is stored; throws the first failure.</summary>
        public void Finish()
        {
            _queue.CompleteAdding();
            Task.WaitAll(_threads);
            ThrowIfFailed();
        }

        private void Work()
        {
            foreach (var content in _queue.GetConsumingEnumerable())
            {
                try
                {
                    if (Volatile.Read(ref _failure) is null)
                    {
                        var data = content.Buffer.AsSpan(0, content.Length);
                        if (!content.Checked && ObjectId.Hash(data) != content.Id)
                        {
                            throw Mismatch(content.Path!);
                        }

                        if (!content.Stored)
                        {
                            _writer!.Put(content.Id, ObjectKind.Blob, data);
                        }
                    }
                }
                catch (Exception e)
                {
                    // Any failure, not only a refusal: a worker that died would leave the reader waiting on a full
                    // queue for ever. The others drain the queue, storing nothing more.
                    Interlocked.CompareExchange(ref _failure, e, null);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(content.Buffer);
                }
            }

            try
            {
                // This thread's last frame is compressed here, beside the others' (the commit would do each in turn).
                if (_writer is not null && Volatile.Read(ref _failure) is null)
                {
                    _writer.FlushBatch();
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
        }

        public void Dispose()
        {
            // After a refusal the reader stops: the workers drain what is queued (storing nothing more) and end.
            _queue.CompleteAdding();
            Task.WhenAll(_threads).WaitEnded();

            _queue.Dispose();
        }
    }

    private byte NextRecord()
    {
        var record = _reader!.Byte();
        if (record == CaptureProtocol.FailureRecord)
        {
            var why = Encoding.UTF8.GetString(_reader.Bytes(CaptureProtocol.MaxTextLength, "a message"));
            throw new CaptureRefusedException($"the walker on {(Host.Length > 0 ? Host : "the client")} failed: {why}");
        }

        return record;
    }

    private static void CheckName(byte[] name, MemoryNode parent, int pathLength)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny((byte)'/', (byte)0) >= 0 || name is [(byte)'.'] or [(byte)'.', (byte)'.'])
        {
            throw new CaptureRefusedException($"the walker sent the name '{LinuxException.Printable(name)}', which no directory can hold (empty, '.', '..', or with '/' or NUL)");
        }

        if (pathLength > CaptureProtocol.MaxPathLength)
        {
            throw new CaptureRefusedException($"the walker sent a path longer than Linux allows ({CaptureProtocol.MaxPathLength} bytes)");
        }

        if (parent.Children!.ContainsKey(name))
        {
            throw new CaptureRefusedException($"the walker sent '{LinuxException.Printable(name)}' twice in one directory");
        }
    }

    private static void Link(MemoryNode node, uint group, Dictionary<uint, List<MemoryNode>> links)
    {
        if (node.Entry.Kind == FileKind.Directory)
        {
            throw new CaptureRefusedException($"the walker sent the directory '{LinuxException.Printable(node.Entry.Name)}' as a hard link: a directory loop, refused");
        }

        if (!links.TryGetValue(group, out var members))
        {
            links[group] = [node];
            node.Link = new LinkKey();
            return;
        }

        var first = members[0];
        members.Add(node);
        var a = first.Entry;
        var b = node.Entry;
        if (a.Kind != b.Kind || a.Content != b.Content || a.Size != b.Size || a.Target?.AsSpan().SequenceEqual(b.Target) == false)
        {
            throw new CaptureRefusedException($"the walker sent '{LinuxException.Printable(b.Name)}' as a hard link of a different file");
        }

        node.Link = first.Link;
    }

    /// <summary>Names of one file are hard links when the tree holds two or more of them (the others may be
    /// excluded): marked so, as a stored version marks them, for a dry run's comparison.</summary>
    private static void MarkLinks(Dictionary<uint, List<MemoryNode>> links)
    {
        foreach (var (group, members) in links)
        {
            foreach (var member in members)
            {
                member.Link = members.Count > 1 ? member.Link : null;
                member.Entry.LinkGroup = members.Count > 1 ? group : 0;
            }
        }
    }

    private void CheckContent(TreeEntry entry, byte[] path)
    {
        var end = 0L;
        foreach (var extent in entry.Extents ?? [])
        {
            if (extent.Offset < end || extent.Length <= 0 || extent.Offset > entry.Size - extent.Length)
            {
                throw new CaptureRefusedException($"the walker sent holes for '{LinuxException.Printable(entry.Name)}' that do not fit its size");
            }

            end = extent.Offset + extent.Length;
        }

        var length = entry.DataLength;
        if ((length == 0) != entry.Content.IsZero)
        {
            throw new CaptureRefusedException($"the walker sent '{LinuxException.Printable(entry.Name)}' with a content id that does not fit its length");
        }

        Files++;
        Bytes += entry.Size;
        if (length == 0)
        {
            return;
        }

        if (_contents.TryGetValue(entry.Content, out var known))
        {
            if (known.Length != length)
            {
                throw new CaptureRefusedException($"the walker sent one content id for two lengths ({Printable(known.Path)})");
            }

            return;
        }

        _contents[entry.Content] = (path, length);
        _order.Add(entry.Content);
    }

    private static string Printable(byte[] path) => "/" + LinuxException.Printable(path);

    private void Report(string stage) => progress?.Report(new TransferProgress(stage, Entries, 0, Bytes, 0, "entries"));

    /// <summary>Exactly LENGTH bytes of the walker's stream: ending sooner is the walker stopping halfway.</summary>
    private sealed class ExactStream(Stream inner, long length) : ReadOnlyStream
    {
        private long _left = length;

        public override int Read(Span<byte> buffer)
        {
            if (_left == 0)
            {
                return 0;
            }

            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            if (n == 0)
            {
                throw new CaptureRefusedException("the walker stopped halfway (its output ended inside a file's data)");
            }

            _left -= n;
            return n;
        }
    }
}
