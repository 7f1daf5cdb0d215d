using Sidus.Store.Checkout;
using Sidus.Store.Import;
using Sidus.Store.Sync;

namespace Sidus.Store.Export;

/// <summary>
/// Builds read-only filesystem images from a version with Debian's tools: squashfs by streaming our tar into
/// `sqfstar` (no copy of the tree on disk), EROFS by checking the version out into a temporary directory in the
/// store's staging area and running `mkfs.erofs` over it (erofs-utils 1.5 has no tar input). Owners, modes, xattrs,
/// hard links and devices are kept.
/// </summary>
public sealed class FilesystemImageExporter(Repository repository)
{
    private const string SquashfsTool = "sqfstar";
    private const string ErofsTool = "mkfs.erofs";

    /// <summary>Writes a squashfs image to FILE (FILE.tmp renamed when complete).</summary>
    public ExportResult ExportSquashfs(ObjectId commitId, string file, IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var root = repository.ReadCommit(commitId).Root;
        ExportResult? result = null;
        var length = ExportOutput.Produce(file, temporary =>
        {
            string[] args =
            [
                "-no-progress", "-quiet", "-comp", "zstd",
                "-root-mode", Convert.ToString(root.Permissions, 8),
                "-root-uid", root.Uid.ToString(CultureInfo.InvariantCulture),
                "-root-gid", root.Gid.ToString(CultureInfo.InvariantCulture),
                "-root-time", Math.Clamp(root.MtimeSeconds, 0, uint.MaxValue).ToString(CultureInfo.InvariantCulture),
                temporary,
            ];
            result = RunWithInput(SquashfsTool, "squashfs-tools", args, stdin =>
                new TarExporter(repository) { IncludeRoot = false, DotSlashPrefix = false }.Export(commitId, stdin, progress, cancellation), cancellation);
        });
        return result! with { OutputBytes = length };
    }

    /// <summary>Writes an EROFS image to FILE (FILE.tmp renamed when complete); the temporary tree is always removed.</summary>
    public ExportResult ExportErofs(ObjectId commitId, string file, IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var tree = repository.NewStagingDirectoryPath("erofs");
        var name = Path.GetFileName(tree);
        var commit = repository.ReadCommit(commitId);
        try
        {
            var checkout = TreeSync.Checkout(repository, commitId, tree, new CheckoutOptions { Progress = progress }, cancellation);
            // The same version gives the same bytes (what an NBD client reconnecting to a rebuilt export, and its
            // dm-verity root hash, rely on): mkfs.erofs would otherwise stamp the build time and a random UUID. The
            // fixed build time is the largest 32-bit time because SOURCE_DATE_EPOCH also clamps every newer file
            // time to it (erofs-utils 1.5), and no file's time may change.
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["SOURCE_DATE_EPOCH"] = uint.MaxValue.ToString(CultureInfo.InvariantCulture),
            };
            var length = ExportOutput.Produce(file, temporary =>
                Run(ErofsTool, "erofs-utils", ["--quiet", "--preserve-mtime", "-U" + UuidOf(commitId), temporary, tree], cancellation, environment));
            return new ExportResult { Entries = commit.Entries + 1, DataBytes = checkout.BytesWritten, OutputBytes = length };
        }
        finally
        {
            using (var staging = DirectoryHandle.Open(repository.StagingDirectory))
            {
                if (staging.TryStat(System.Text.Encoding.ASCII.GetBytes(name), out _, out _))
                {
                    staging.RemoveTree(System.Text.Encoding.ASCII.GetBytes(name));
                }
            }

            File.Delete(StateCache.PathFor(repository.CacheDirectory, tree));
        }
    }

    /// <summary>A filesystem UUID made from the version id (its first 16 bytes).</summary>
    private static string UuidOf(ObjectId commitId)
    {
        Span<byte> id = stackalloc byte[ObjectId.Size];
        commitId.Write(id);
        var hex = Convert.ToHexStringLower(id[..16]);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private static void Run(string tool, string package, string[] args, CancellationToken cancellation, IReadOnlyDictionary<string, string>? environment = null) =>
        RunWithInput<object?>(tool, package, args, null, cancellation, environment);

    /// <summary>Runs TOOL with ARGS, feeding its stdin through FEED (or none); a non-zero exit is an error with its output.</summary>
    private static T RunWithInput<T>(string tool, string package, string[] args, Func<Stream, T>? feed, CancellationToken cancellation,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        T result = default!;
        ProcessResult run;
        try
        {
            run = ProcessRunner.Run(tool, args, package, feed: feed is null ? null : stdin => result = feed(stdin),
                environment: environment, cancellation: cancellation);
        }
        catch (ToolStartException e)
        {
            throw new StoreException(e.Message, e);
        }

        return run.Succeeded ? result : throw new StoreException(run.FailureMessage);
    }
}
