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
    IReadOnlyList<PathChange>? Changes);

/// <summary>
/// Makes a golden client's root a version of an image (docs/capture.md): asks the walker for the tree, asks for the
/// contents the store lacks, stores them checked by their ids, and records the version only when all arrived. A
/// refusal, a walker that stops, a kill -9 of the capture: the store's writer is never committed, so the store is as
/// it was.
/// </summary>
public static class ImageCapture
{
    private const int MaxImageListBytes = 1024 * 1024;

    public static CaptureResult Run(ImageStore store, string image, string source, ICaptureChannel channel, CaptureOptions options,
        IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        Refs.RefStore.ValidateName(image, "image");
        var excludes = CaptureExcludes.Combine(ImageExcludes(store.Repository, image), options.Excludes);
        try
        {
            _ = new SyncExcludes(excludes);
        }
        catch (ArgumentException e)
        {
            throw new StoreException(e.Message, StoreErrorKind.Usage);
        }

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
            var tree = receiver.ReceiveTree(cancellation);
            if (options.DryRun)
            {
                var head = store.Repository.Refs.Head(image);
                var changes = TreeDiff.Compare(store.Repository, head is { } h ? store.Repository.ReadCommit(h).Root : null, tree);
                Exchange(channel, receiver, null, [], cancellation);
                Done(channel);
                return Result(receiver, excludes, 0, 0, null, changes);
            }

            var wantedCount = 0;
            var wantedBytes = 0L;
            var message = options.Message ?? $"capture of {receiver.Host} ({source})";
            var version = store.Write(image, $"image capture {image}", message, writer =>
            {
                var wanted = receiver.Contents.Keys.Where(id => !writer.Has(id)).ToList();
                wantedCount = wanted.Count;
                wantedBytes = wanted.Sum(id => receiver.Contents[id].Length);
                Exchange(channel, receiver, writer, wanted, cancellation);
                return tree;
            });
            Done(channel);
            return Result(receiver, excludes, wantedCount, wantedBytes, version, null);
        }
        catch (Exception e) when (e is CaptureRefusedException or IOException && e is not StoreException { Kind: not StoreErrorKind.Failure })
        {
            channel.Abort();
            if (idle)
            {
                throw new StoreException(
                    $"the client sent nothing for {options.IdleLimit.TotalSeconds:0} s and was cut off; nothing was recorded", StoreErrorKind.Failure);
            }

            var said = channel.Errors.Trim();
            throw new StoreException(
                e.Message + (said.Length > 0 && !e.Message.Contains(said, StringComparison.Ordinal) ? $"\nthe client said: {said}" : "") +
                (e.Message.Contains("nothing was recorded", StringComparison.Ordinal) ? "" : "\nNothing was recorded."),
                StoreErrorKind.Failure);
        }
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
    public static List<string> ImageExcludes(Repository repository, string image)
    {
        if (repository.Refs.Head(image) is not { } head)
        {
            return [];
        }

        var entry = repository.ReadCommit(head).Root;
        foreach (var name in CaptureExcludes.ImageListPath.Trim('/').Split('/'))
        {
            var next = entry.Kind == FileKind.Directory
                ? repository.ReadTree(entry.Tree).FirstOrDefault(e => e.Name.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(name)))
                : null;
            if (next is null)
            {
                return [];
            }

            entry = next;
        }

        if (entry.Kind != FileKind.Regular || entry.Content.IsZero)
        {
            return [];
        }

        if (entry.Size > MaxImageListBytes)
        {
            throw new StoreException($"{image}'s {CaptureExcludes.ImageListPath} is over {MaxImageListBytes} bytes: not an exclude list", StoreErrorKind.Failure);
        }

        var text = new MemoryStream();
        foreach (var piece in ContentStore.Read(repository.Objects, entry.Content))
        {
            text.Write(piece.Span);
        }

        return CaptureExcludes.Parse(Encoding.UTF8.GetString(text.ToArray()));
    }
}
