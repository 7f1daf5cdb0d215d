using Sidus.Store.Import;

namespace Sidus.Store.Export;

public enum ExportFormat
{
    Tar,
    Squashfs,
    Erofs,
    Cpio,
}

/// <summary>`sidus image export`: a version as a tar, cpio, squashfs or EROFS file (tar and cpio also to stdout).</summary>
public static class ImageExport
{
    public static ExportResult Export(Repository repository, string spec, ExportFormat format, string output,
        IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var (id, _) = repository.Resolve(spec);
        if (output == ExportOutput.StandardOutput && format is ExportFormat.Squashfs or ExportFormat.Erofs)
        {
            throw new StoreException($"{format.ToString().ToLowerInvariant()} images are built in a file: give -o FILE", StoreErrorKind.Usage);
        }

        switch (format)
        {
            case ExportFormat.Tar:
            {
                ExportResult? result = null;
                var length = ExportOutput.WriteFile(output, s => result = new TarExporter(repository).Export(id, s, progress, cancellation));
                return result! with { OutputBytes = length == 0 ? result!.OutputBytes : length };
            }

            case ExportFormat.Cpio:
            {
                ExportResult? result = null;
                var length = ExportOutput.WriteFile(output, s => result = new CpioExporter(repository).Export(id, s, progress, cancellation));
                return result! with { OutputBytes = length == 0 ? result!.OutputBytes : length };
            }

            case ExportFormat.Squashfs:
                return new FilesystemImageExporter(repository).ExportSquashfs(id, output, progress, cancellation);
            case ExportFormat.Erofs:
                return new FilesystemImageExporter(repository).ExportErofs(id, output, progress, cancellation);
            default:
                throw new StoreException($"unknown export format {format}", StoreErrorKind.Usage);
        }
    }
}
