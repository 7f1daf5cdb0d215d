using Sidus.Store.Checkout;
using Sidus.Store.Import;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Trees;

namespace Sidus.Store;

/// <summary>What a write to an image produced.</summary>
public sealed record VersionResult(ObjectId Id, Commit Commit, bool Created, long NewBytes, long PackBytes);

/// <summary>The image operations the CLI and the server call: each takes the writer lock when it writes.</summary>
public sealed class ImageStore(Repository repository)
{
    public Repository Repository { get; } = repository;

    /// <summary>How long a writer waits for another one before giving up with a clear message.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(30);

    public Action<string>? OnWaiting { get; init; }

    /// <summary>Imports a directory, a tarball or an OCI image, whichever SOURCE is.</summary>
    public VersionResult Import(string image, string source, string message, IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        if (Directory.Exists(source) && !File.Exists(Path.Combine(source, "oci-layout")))
        {
            return ImportDirectory(image, source, message, progress, cancellation);
        }

        if (source != "-" && !File.Exists(source) && !Directory.Exists(source))
        {
            throw new StoreException($"{source} does not exist: give a directory, a tarball or an OCI image", ExitCodes.NotFound);
        }

        return ArchiveImport.Import(this, image, source, message, progress, cancellation);
    }

    /// <summary>Imports a directory as a new version of IMAGE (a cache from an earlier checkout skips unchanged files).</summary>
    public VersionResult ImportDirectory(string image, string source, string message, IProgress<TransferProgress>? progress,
        CancellationToken cancellation, StateCache? cache = null)
    {
        if (!Directory.Exists(source))
        {
            throw new StoreException($"{source} is not a directory", ExitCodes.NotFound);
        }

        return Write(image, $"image import {image}", message, writer =>
            new DirectoryImporter(writer, progress, cache).Import(source, cancellation));
    }

    /// <summary>Builds a tree with BUILD (which stores file data through the writer) and records it as a version.</summary>
    public VersionResult Write(string image, string operation, string message, Func<ObjectWriter, MemoryTree> build, bool always = false)
    {
        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        using var storeLock = Repository.LockForWriting(operation, LockWait, OnWaiting);
        using var writer = Repository.CreateWriter();
        var tree = build(writer);
        var (root, stats) = tree.Write(writer);
        if (!always && Repository.Refs.Head(image) is { } head)
        {
            var current = Repository.ReadCommit(head);
            if (current.Root.Tree == root.Tree && SameRootMetadata(current.Root, root))
            {
                return new VersionResult(head, current, Created: false, 0, 0);
            }
        }

        var newBytes = writer.NewBytes;
        var (id, commit) = Repository.CommitVersion(writer, image, root, stats, message);
        return new VersionResult(id, commit, Created: true, newBytes, writer.PackBytes);
    }

    public CheckoutResult Checkout(string spec, string target, CheckoutOptions options, CancellationToken cancellation)
    {
        var (id, _) = Repository.Resolve(spec);
        return new CheckoutEngine(Repository, options).Run(id, target, cancellation);
    }

    private static bool SameRootMetadata(TreeEntry a, TreeEntry b)
    {
        var wa = new Formats.ByteWriter();
        var wb = new Formats.ByteWriter();
        TreeCodec.WriteEntry(wa, a);
        TreeCodec.WriteEntry(wb, b);
        return wa.WrittenSpan.SequenceEqual(wb.WrittenSpan);
    }
}
