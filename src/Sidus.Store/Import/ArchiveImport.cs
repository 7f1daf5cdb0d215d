namespace Sidus.Store.Import;

/// <summary>
/// Imports what is not a plain directory: a tarball (any compression, or "-" for standard input), a container image
/// archive (`docker save`, OCI archive) or an OCI layout directory. Nothing is recorded unless the whole source was
/// read and verified.
/// </summary>
public static class ArchiveImport
{
    public const string StandardInput = "-";

    public static VersionResult Import(ImageStore store, string image, string source, string message,
        IProgress<TransferProgress>? progress, CancellationToken cancellation, string? platform = null)
    {
        var staging = store.Repository.StagingDirectory;
        var operation = $"image import {image}";
        if (source == StandardInput)
        {
            return store.Write(image, operation, message, writer =>
            {
                using var stdin = Console.OpenStandardInput();
                return new TarImporter(writer, progress).Import(stdin, "standard input", 0, cancellation);
            });
        }

        if (Directory.Exists(source))
        {
            if (!File.Exists(Path.Combine(source, "oci-layout")))
            {
                throw new StoreException($"{source} is a directory without oci-layout: import it as a root tree with ImportDirectory", StoreErrorKind.Usage);
            }

            return store.Write(image, operation, message, writer =>
                new OciImporter(writer, staging, progress) { Platform = platform }.ImportLayout(source, cancellation));
        }

        if (OciImporter.IsImageArchive(source))
        {
            return store.Write(image, operation, message, writer =>
                new OciImporter(writer, staging, progress) { Platform = platform }.ImportArchive(source, cancellation));
        }

        return store.Write(image, operation, message, writer =>
        {
            using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            return new TarImporter(writer, progress).Import(file, source, file.Length, cancellation);
        });
    }
}
