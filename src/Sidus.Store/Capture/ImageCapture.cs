using Sidus.Store.Diff;
using Sidus.Store.Import;
using Sidus.Store.Sync;

namespace Sidus.Store.Capture;

/// <summary>How `image capture` runs.</summary>
public sealed record CaptureOptions
{
    /// <summary>Excludes of this capture, added to the defaults and the image's own.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>List what would change; record nothing.</summary>
    public bool DryRun { get; init; }

    public string? Message { get; init; }

    /// <summary>A walker silent this long is cut off (a client that hangs halfway).</summary>
    public TimeSpan IdleLimit { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>What a capture did: the tree, what travelled, and the version (or, for a dry run, the changes).</summary>
public sealed record CaptureResult(
    string Host,
    long Entries,
    long Files,
    long Bytes,
    int ContentsSent,
    long ContentBytes,
    long WireBytes,
    IReadOnlyList<string> Excludes,
    VersionResult? Version,
    IReadOnlyList<PathChange>? Changes)
{
    /// <summary>Bytes of the walker program sent to the client (0: it ran the copy an earlier capture kept).</summary>
    public long WalkerBytes { get; init; }
}

/// <summary>What a capture reads from the store before the walker's tree: its excludes and the version it is laid over.</summary>
public sealed record PreparedCapture(string Image, CaptureOptions Options, List<string> Excludes, SyncExcludes Excluded, ObjectId? HeadId, TreeEntry? Head);

/// <summary>
/// Makes a golden client's root a version of an image (docs/capture.md): asks the walker for the tree, asks for the
/// contents the store lacks, stores them checked by their ids, and records the version only when all arrived. A
/// refusal, a walker that stops, a kill -9 of the capture: the store's writer is never committed, so the store is as
/// it was.
/// </summary>
public static class ImageCapture
{
    public static CaptureResult Run(ImageStore store, string image, string source, ICaptureChannel channel, CaptureOptions options,
        IProgress<TransferProgress>? progress, CancellationToken cancellation) =>
        Run(store, Prepare(store, image, options), source, channel, progress, cancellation);

    /// <summary>
    /// Reads what the capture of IMAGE needs from the store before the client answers, the indexes of every pack
    /// included: the CLI does it while ssh logs in, not while the walker waits for its request.
    /// </summary>
    public static PreparedCapture Prepare(ImageStore store, string image, CaptureOptions options)
    {
        Refs.RefStore.ValidateName(image, "image");
        var excludes = CaptureExcludes.Combine(ImageExcludes(store.Repository, image), options.Excludes);
        SyncExcludes excluded;
        try
        {
            excluded = new SyncExcludes(excludes);
        }
        catch (ArgumentException e)
        {
            throw new StoreException(e.Message, StoreErrorKind.Usage);
        }

        // The version the capture is laid over: what it keeps of it (ExcludedPaths) is lost if another is written
        // meanwhile, so the version is recorded only over this one.
        var headId = store.Repository.Refs.Head(image);
        var head = headId is { } h ? store.Repository.ReadCommit(h).Root : null;
        _ = store.Repository.Objects.Count;
        return new PreparedCapture(image, options, excludes, excluded, headId, head);
    }

    public static CaptureResult Run(ImageStore store, PreparedCapture prepared, string source, ICaptureChannel channel,
        IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var (image, options, excludes, excluded, headId, head) = prepared;
        var idle = false;
        using var watch = new Timer(_ =>
        {
            if (channel.IdleMilliseconds > options.IdleLimit.TotalMilliseconds)
            {
                idle = true;
                channel.Abort();
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var receiver = new CaptureReceiver(channel.FromWalker, progress);
        try
        {
            CaptureProtocol.WriteRequest(channel.ToWalker, new CaptureRequest(excludes, options.DryRun));
            var tree = ExcludedPaths.KeepFrom(store.Repository, head, receiver.ReceiveTree(cancellation), excluded);
            if (options.DryRun)
            {
                var changes = TreeDiff.Compare(store.Repository, head, tree);
                Exchange(channel, receiver, null, [], cancellation);
                Done(channel);
                return Result(receiver, excludes, 0, 0, null, changes);
            }

            var wantedCount = 0;
            var wantedBytes = 0L;
            var message = options.Message ?? $"capture of {receiver.Host} ({source})";
            var version = store.WriteTrees(image, $"image capture {image}", message, writer =>
            {
                // Asked for grouped as the import stores them (by extension, then name): similar files share frames.
                var wanted = receiver.Contents.Where(c => !writer.Has(c.Key))
                    .OrderBy(c => DirectoryImporter.Extension(c.Value.Path), ByteComparer.Instance)
                    .ThenBy(c => DirectoryImporter.BaseName(c.Value.Path), ByteComparer.Instance)
                    .Select(c => c.Key).ToList();
                wantedCount = wanted.Count;
                wantedBytes = wanted.Sum(id => receiver.Contents[id].Length);
                // The version's directories are known now: stored on another thread while the contents come.
                var trees = Task.Run(() =>
                {
                    var written = tree.Write(writer);
                    writer.FlushBatch();
                    return written;
                });
                try
                {
                    Exchange(channel, receiver, writer, wanted, cancellation);
                }
                finally
                {
                    // Never left running into a writer that a failure is about to dispose; its own failure is
                    // thrown below.
                    trees.WaitEnded();
                }

                return trees.GetAwaiter().GetResult();
            }, expectedHead: headId, compressionLevel: CaptureProtocol.StoreLevel);
            Done(channel);
            return Result(receiver, excludes, wantedCount, wantedBytes, version, null);
        }
        catch (Exception e) when (e is CaptureRefusedException or IOException && e is not StoreException { Kind: not StoreErrorKind.Failure })
        {
            channel.Abort();
            if (idle)
            {
                throw new StoreException(
                    $"the client sent nothing for {options.IdleLimit.TotalSeconds:0} s and was cut off (--timeout); nothing was recorded", StoreErrorKind.Failure);
            }

            // The walker writes its failure to stderr too (the stream may be cut anywhere): said once is enough.
            var said = channel.Errors.Trim();
            said = said.StartsWith("sidus-walk: ", StringComparison.Ordinal) && e.Message.Contains(said["sidus-walk: ".Length..], StringComparison.Ordinal) ? "" : said;
            throw new StoreException(
                e.Message + (said.Length > 0 && !e.Message.Contains(said, StringComparison.Ordinal) ? $"\nthe client said: {said}" : "") +
                (e.Message.Contains("nothing was recorded", StringComparison.Ordinal) ? "" : "\nNothing was recorded."),
                StoreErrorKind.Failure);
        }
    }

    /// <summary>
    /// A shared-mode node's overlay (its agent's send-all walker stream, FROM_NODE) laid over BASE, the version it
    /// booted, as a new version of IMAGE (or, DRY_RUN, only the changes). Refused when IMAGE is BASE's image and has a
    /// newer version than BASE: the node's changes would silently undo that version's.
    /// </summary>
    /// <param name="excludes">Paths the capture leaves as BASE has them (the defaults, the node's override files).</param>
    public static CaptureResult ReceiveOverlay(ImageStore store, string image, ObjectId baseId, Stream fromNode, IReadOnlyList<string> excludes,
        bool dryRun, string message, CancellationToken cancellation)
    {
        Refs.RefStore.ValidateName(image, "image");
        var repository = store.Repository;
        var baseCommit = repository.ReadCommit(baseId);
        if (image == baseCommit.Image && repository.Refs.Head(image) is { } head && head != baseId)
        {
            throw new StoreException(
                $"{image} has a newer version (@{repository.ReadCommit(head).Sequence}) than the node booted (@{baseCommit.Sequence}): " +
                $"its changes are over @{baseCommit.Sequence}. Capture them into another image (--to NAME), or boot the node on the newest version first; nothing was recorded",
                StoreErrorKind.Conflict);
        }

        var receiver = new CaptureReceiver(fromNode, null);
        var upper = receiver.ReceiveTree(cancellation);
        var merged = OverlayUpper.Merge(MemoryTree.Load(repository.ReadTree, baseCommit.Root), upper, new SyncExcludes(excludes));
        var changes = TreeDiff.Compare(repository, baseCommit.Root, merged);
        if (dryRun)
        {
            receiver.ReceiveContents(null, [], cancellation);
            return Result(receiver, [.. excludes], 0, 0, null, changes);
        }

        var version = store.Write(image, $"node capture into {image}", message, writer =>
        {
            receiver.ReceiveContents(writer, receiver.ContentOrder, cancellation);
            return merged;
        }, expectedHead: image == baseCommit.Image ? baseId : repository.Refs.Head(image), compressionLevel: CaptureProtocol.StoreLevel);
        var bytes = receiver.ContentOrder.Sum(id => receiver.Contents[id].Length);
        return Result(receiver, [.. excludes], receiver.ContentOrder.Count, bytes, version, changes);
    }

    /// <summary>Sends the wanted list and receives those contents (none for a dry run).</summary>
    private static void Exchange(ICaptureChannel channel, CaptureReceiver receiver, Packs.ObjectWriter? writer,
        IReadOnlyList<ObjectId> wanted, CancellationToken cancellation)
    {
        var list = new ByteWriter(16 + wanted.Count * ObjectId.Size);
        list.Byte(CaptureProtocol.WantedAnswer);
        list.Varint((ulong)wanted.Count);
        foreach (var id in wanted)
        {
            list.Id(id);
        }

        channel.ToWalker.Write(list.WrittenSpan);
        channel.ToWalker.Flush();
        receiver.ReceiveContents(writer, wanted, cancellation);
    }

    /// <summary>Tells the walker the capture is over (a dry run's too: it then ends with success, keeping its
    /// state cache as it was).</summary>
    private static void Done(ICaptureChannel channel)
    {
        channel.ToWalker.WriteByte(CaptureProtocol.DoneAnswer);
        channel.ToWalker.Flush();
    }

    private static CaptureResult Result(CaptureReceiver receiver, List<string> excludes, int sent, long bytes, VersionResult? version,
        IReadOnlyList<PathChange>? changes) =>
        new(receiver.Host, receiver.Entries, receiver.Files, receiver.Bytes, sent, bytes, receiver.WireBytes, excludes, version, changes);

    /// <summary>The excludes the image keeps for its captures (<see cref="CaptureExcludes.ImageListPath"/> in its newest version).</summary>
    public static List<string> ImageExcludes(Repository repository, string image) =>
        repository.Refs.Head(image) is { } head ? ImageListFile.Read(repository, head, CaptureExcludes.ImageListPath) : [];
}
