using Sidus.Store.Checkout;
using Sidus.Store.Import;
using Sidus.Store.Packs;
using Sidus.Store.Sync;

namespace Sidus.Store;

/// <summary>A version `image rm NAME@VER` or `image prune` removed (or would remove), with the tags that named it.</summary>
public sealed record RemovedVersion(string Image, ObjectId Id, long Sequence, IReadOnlyList<string> Tags);

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
            throw new StoreException($"{source} does not exist: give a directory, a tarball or an OCI image", StoreErrorKind.NotFound);
        }

        return ArchiveImport.Import(this, image, source, message, progress, cancellation);
    }

    /// <summary>Builds a Debian/Ubuntu image from scratch with debootstrap and records it as a new version.</summary>
    public async Task<VersionResult> BuildAsync(string image, Build.BuildRequest request, string message,
        IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        var work = WorkDirectory();
        RemoveStaleBuilds(work);
        var staging = Path.Combine(work, $"build-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            await Build.Debootstrap.BuildAsync(request, staging, staging + ".log", progress, cancellation);
            return ImportDirectory(image, staging, message, progress, cancellation);
        }
        finally
        {
            RemoveDirectory(staging);
        }
    }

    /// <summary>
    /// Runs COMMAND inside the newest version of IMAGE (chroot with /proc, /sys, /dev bound, services kept from
    /// starting) and records the result as a new version when anything changed. The work tree under the data
    /// directory is kept between runs, so the next exec only syncs what differs.
    /// </summary>
    public async Task<(int ExitCode, VersionResult? Version)> ExecAsync(string image, IReadOnlyList<string> command, string? message,
        IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        var work = WorkDirectory();
        using var imageLock = StoreLock.Acquire(Path.Combine(work, image + ".lock"), $"image exec {image}", LockWait, OnWaiting);
        var (baseId, baseCommit) = Repository.Resolve(image);
        var tree = Path.Combine(work, image);
        TreeSync.Checkout(Repository, baseId, tree, new CheckoutOptions { Progress = progress }, cancellation);
        var code = await Build.ChrootRunner.RunAsync(tree, command, Repository.StagingDirectory, cancellation);
        if (code != 0)
        {
            return (code, null);
        }

        var cachePath = StateCache.PathFor(Repository.CacheDirectory, tree);
        var cache = StateCache.Load(cachePath);
        var record = StateCache.Empty(ObjectId.Zero);
        var text = message ?? "exec: " + string.Join(' ', command);
        var version = Write(image, $"image exec {image}", text,
            writer => new DirectoryImporter(writer, progress, cache, record).Import(tree, cancellation),
            expectedHead: baseId);
        _ = baseCommit;
        StateCache.Invalidate(cachePath);
        record.WithCommit(version.Id).Save(cachePath);
        return (0, version);
    }

    /// <summary>
    /// Removes the `image exec` work trees (with their lock and checkout cache) of images no longer in the store, and
    /// build trees of dead processes: nothing can make a version from them any more. Returns each removed path and
    /// its bytes. Takes each image's exec lock, so a running exec is never pulled from under.
    /// </summary>
    public IReadOnlyList<(string Path, long Bytes)> PruneWork()
    {
        var work = Path.Combine(Repository.Home, "work");
        var removed = new List<(string, long)>();
        if (!Directory.Exists(work))
        {
            return removed;
        }

        var images = Repository.Refs.Images().ToHashSet(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(work))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith("build-", StringComparison.Ordinal) || images.Contains(name))
            {
                continue;
            }

            using var imageLock = StoreLock.Acquire(Path.Combine(work, name + ".lock"), $"store gc of work/{name}", LockWait, OnWaiting);
            var bytes = TreeBytes(dir);
            RemoveDirectory(dir);
            File.Delete(StateCache.PathFor(Repository.CacheDirectory, dir));
            removed.Add((dir, bytes));
        }

        foreach (var lockFile in Directory.EnumerateFiles(work, "*.lock"))
        {
            if (!images.Contains(Path.GetFileNameWithoutExtension(lockFile)) && !Directory.Exists(Path.ChangeExtension(lockFile, null)))
            {
                File.Delete(lockFile);
            }
        }

        var before = Directory.EnumerateDirectories(work, "build-*").ToDictionary(d => d, TreeBytes);
        RemoveStaleBuilds(work);
        removed.AddRange(before.Where(b => !Directory.Exists(b.Key)).Select(b => (b.Key, b.Value)));
        return removed;
    }

    private static long TreeBytes(string dir) =>
        new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Sum(f => f is FileInfo { LinkTarget: null } file ? file.Length : 0);

    private string WorkDirectory()
    {
        var work = Path.Combine(Repository.Home, "work");
        Directory.CreateDirectory(work);
        return work;
    }

    /// <summary>Build trees left by a process that died (kill -9, power loss) are removed by the next build.</summary>
    private static void RemoveStaleBuilds(string work)
    {
        // A failed build's debootstrap log is kept until the next build (its writer's process is gone by then).
        foreach (var log in Directory.EnumerateFiles(work, "build-*.log"))
        {
            var parts = Path.GetFileName(log).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                File.Delete(log);
            }
        }

        foreach (var dir in Directory.EnumerateDirectories(work, "build-*"))
        {
            var parts = Path.GetFileName(dir).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                RemoveDirectory(dir);
            }
        }
    }

    private static void RemoveDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        using var parent = Linux.DirectoryHandle.Open(Path.GetDirectoryName(path)!);
        parent.RemoveTree(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(path)));
    }

    /// <summary>Imports a directory as a new version of IMAGE (a cache from an earlier checkout skips unchanged files).</summary>
    public VersionResult ImportDirectory(string image, string source, string message, IProgress<TransferProgress>? progress,
        CancellationToken cancellation, StateCache? cache = null)
    {
        if (!Directory.Exists(source))
        {
            throw new StoreException($"{source} is not a directory", StoreErrorKind.NotFound);
        }

        return Write(image, $"image import {image}", message, writer =>
            new DirectoryImporter(writer, progress, cache).Import(source, cancellation));
    }

    /// <summary>Builds a tree with BUILD (which stores file data through the writer) and records it as a version.</summary>
    /// <param name="compressionLevel">zstd level of the new pack (default: the store's).</param>
    public VersionResult Write(string image, string operation, string message, Func<ObjectWriter, MemoryTree> build,
        bool always = false, ObjectId? expectedHead = null, int? compressionLevel = null) =>
        WriteTrees(image, operation, message, writer => build(writer).Write(writer), always, expectedHead, compressionLevel);

    /// <summary>As <see cref="Write"/>, for a BUILD that stores the version's trees itself (while it stores contents,
    /// a capture) and returns the root and its counts.</summary>
    public VersionResult WriteTrees(string image, string operation, string message, Func<ObjectWriter, (TreeEntry Root, TreeStats Stats)> build,
        bool always = false, ObjectId? expectedHead = null, int? compressionLevel = null)
    {
        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        using var storeLock = Repository.LockForWriting(operation, LockWait, OnWaiting);
        if (expectedHead is { } expected && Repository.Refs.Head(image) != expected)
        {
            throw new StoreException(
                $"image '{image}' got a new version while this ran; nothing was recorded. Run it again on the new version.",
                StoreErrorKind.Conflict);
        }

        using var writer = compressionLevel is { } level ? Repository.CreateWriter(level) : Repository.CreateWriter();
        var (root, stats) = build(writer);
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

    /// <summary>Names a version: NAME:TAG then resolves to it (a tag may be moved to another version).</summary>
    public (ObjectId Id, Commit Commit) Tag(string spec, string tag)
    {
        Sidus.Store.Refs.RefStore.ValidateName(tag, "tag");
        using var storeLock = Repository.LockForWriting($"image tag {spec} {tag}", LockWait, OnWaiting);
        var (id, commit) = Repository.Resolve(spec);
        Repository.Refs.SetTag(commit.Image, tag, id);
        return (id, commit);
    }

    public void Untag(string image, string tag)
    {
        using var storeLock = Repository.LockForWriting($"image tag --delete {image} {tag}", LockWait, OnWaiting);
        if (!Repository.Refs.DeleteTag(image, tag))
        {
            throw new StoreException($"image '{image}' has no tag '{tag}'", StoreErrorKind.NotFound);
        }
    }

    /// <summary>
    /// Makes the tree of an older version the newest again, as a new version: history is kept, and rolling back
    /// a rollback works the same way.
    /// </summary>
    public VersionResult Rollback(string image, string version)
    {
        using var storeLock = Repository.LockForWriting($"image rollback {image} {version}", LockWait, OnWaiting);
        var (targetId, target) = Repository.Resolve(version.Contains('@') || version.Contains(':') ? version : $"{image}@{version}");
        if (target.Image != image)
        {
            throw new StoreException($"{version} is not a version of '{image}'", StoreErrorKind.Usage);
        }

        using var writer = Repository.CreateWriter();
        var stats = new TreeStats(target.Files, target.Entries, target.LogicalBytes);
        var (id, commit) = Repository.CommitVersion(writer, image, target.Root, stats,
            $"rollback to version {target.Sequence} ({targetId.Short})");
        return new VersionResult(id, commit, Created: true, 0, 0);
    }

    /// <summary>Forgets an image and its tags; its data goes at the next gc unless another version shares it.</summary>
    public int Remove(string image)
    {
        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        using var storeLock = Repository.LockForWriting($"image rm {image}", LockWait, OnWaiting);
        if (Repository.Refs.Head(image) is null)
        {
            throw new StoreException($"there is no image '{image}' (see 'sidus image list')", StoreErrorKind.NotFound);
        }

        var versions = Repository.History(image).Count();
        Repository.Refs.DeleteImage(image);
        return versions;
    }

    /// <summary>
    /// Removes one version (NAME@N, NAME@HEX or NAME:TAG): it no longer resolves, its commit stays as a link of the
    /// history, and `store gc` frees what only it used. The newest version is refused (remove the image, or roll
    /// back first); so is a version a tag names unless <paramref name="dropTags"/>, which deletes those tags too.
    /// </summary>
    public RemovedVersion RemoveVersion(string spec, bool dropTags)
    {
        using var storeLock = Repository.LockForWriting($"image rm {spec}", LockWait, OnWaiting);
        var (id, commit) = Repository.Resolve(spec);
        if (Repository.Refs.Head(commit.Image) == id)
        {
            throw new StoreException(
                $"{commit.Image}@{commit.Sequence} is the newest version of '{commit.Image}': 'sidus image rm {commit.Image}' removes the whole image, "
                + $"or make another version the newest first ('sidus image rollback {commit.Image} VER')",
                StoreErrorKind.Usage);
        }

        var tags = TagsOf(commit.Image, id);
        if (tags.Count > 0 && !dropTags)
        {
            throw new StoreException(
                $"{commit.Image}@{commit.Sequence} is tagged {string.Join(", ", tags.Select(t => $"'{t}'"))}: move or delete the tag "
                + $"('sidus image tag --delete {commit.Image} {tags[0]}'), or use --force to remove the tag with the version",
                StoreErrorKind.Conflict);
        }

        Forget(commit.Image, [id]);
        return new RemovedVersion(commit.Image, id, commit.Sequence, tags);
    }

    /// <summary>
    /// The versions of IMAGE `image prune` removes: all but the newest <paramref name="keep"/>, never one in
    /// <paramref name="inUse"/> (what nodes boot) and, with <paramref name="keepTagged"/>, never one a tag names.
    /// Newest first; with <paramref name="dryRun"/> nothing changes.
    /// </summary>
    public IReadOnlyList<RemovedVersion> Prune(string image, int keep, bool keepTagged, IReadOnlySet<ObjectId> inUse, bool dryRun)
    {
        if (keep < 1)
        {
            throw new StoreException($"--keep {keep}: keep at least the newest version (1), or remove the image with 'sidus image rm {image}'", StoreErrorKind.Usage);
        }

        Sidus.Store.Refs.RefStore.ValidateName(image, "image");
        using var storeLock = Repository.LockForWriting($"image prune {image}", LockWait, OnWaiting);
        var plan = Repository.History(image)
            .Skip(keep)
            .Where(v => !inUse.Contains(v.Id))
            .Select(v => new RemovedVersion(image, v.Id, v.Commit.Sequence, TagsOf(image, v.Id)))
            .Where(v => !keepTagged || v.Tags.Count == 0)
            .ToList();
        if (!dryRun && plan.Count > 0)
        {
            Forget(image, plan.Select(v => v.Id).ToList());
        }

        return plan;
    }

    private List<string> TagsOf(string image, ObjectId id) =>
        Repository.Refs.Tags(image).Where(t => t.Value == id).Select(t => t.Key).ToList();

    /// <summary>Marks VERSIONS removed, tags naming them first (a crash between leaves a tagless version, never a dangling tag).</summary>
    private void Forget(string image, IReadOnlyList<ObjectId> versions)
    {
        var set = versions.ToHashSet();
        foreach (var (tag, _) in Repository.Refs.Tags(image).Where(t => set.Contains(t.Value)))
        {
            Repository.Refs.DeleteTag(image, tag);
        }

        Repository.Refs.AddRemoved(image, versions);
    }

    public CheckoutResult Checkout(string spec, string target, CheckoutOptions options, CancellationToken cancellation)
    {
        var (id, _) = Repository.Resolve(spec);
        return TreeSync.Checkout(Repository, id, target, options, cancellation);
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
